"""``POST /slack/events``: Slack's signature is checked on the raw bytes before any parsing.

In order, and nothing from the body is parsed, logged or answered before step 3 passes:

1. size: a ``Content-Length`` over ``MAX_BODY_BYTES``, or a body that grows past it while being
   read, gets 413 (an unsigned 8 MiB body is never read in full);
2. timestamp: ``X-Slack-Request-Timestamp`` must be digits within five minutes of now, else 401;
3. signature: ``X-Slack-Signature`` must be ``v0=HMAC-SHA256(secret, "v0:{ts}:{raw body}")``,
   compared in constant time, else 401 (an empty signing secret refuses every request);
4. shape: a signed body that is not UTF-8, or not a JSON object where Slack sends one (the body,
   or a form's ``payload``), gets 400: Slack never sends one, and Bolt would answer it with 500;
5. only then Bolt (``AsyncApp.async_dispatch``), which checks the signature once more.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

#: Slack's payloads are a few KiB; a readout message echoed back in a click stays far below this.
MAX_BODY_BYTES = 1024 * 1024
#: Slack's replay window: a request signed longer ago (or ahead) than this is refused.
MAX_CLOCK_SKEW_S = 5 * 60
_MAX_TIMESTAMP_DIGITS = 12

Clock = Callable[[], float]
log = logging.getLogger(__name__)


def _refused(status: int, error: str) -> Response:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


def signature_ok(secret: bytes, timestamp: str, signature: str, raw: bytes, *, now: float) -> bool:
    """Whether ``raw`` was signed with ``secret`` at ``timestamp``, within the replay window."""
    if not secret or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if len(timestamp) > _MAX_TIMESTAMP_DIGITS or abs(now - int(timestamp)) > MAX_CLOCK_SKEW_S:
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + raw
    expected = b"v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest().encode("ascii")
    return hmac.compare_digest(expected, signature.encode("latin-1", errors="replace"))


def _readable(raw: bytes, content_type: str | None) -> str | None:
    """The body as text when Bolt will read it as one JSON object (its own parser); else None."""
    try:
        text = raw.decode("utf-8")
        body: Any = parse_body(text, content_type)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return text if isinstance(body, dict) else None


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None as soon as it is larger than ``MAX_BODY_BYTES``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return None
    return bytes(raw)


def slack_events_endpoint(
    app: AsyncApp, signing_secret: str, *, clock: Clock = time.time
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for Slack's HTTP mode, verifying before Bolt sees the request."""
    secret = signing_secret.encode("utf-8")

    async def slack_events(request: Request) -> Response:
        raw = await _read_capped(request)
        if raw is None:
            return _refused(413, "body too large")
        headers = request.headers
        if not signature_ok(
            secret,
            headers.get("x-slack-request-timestamp", ""),
            headers.get("x-slack-signature", ""),
            raw,
            now=clock(),
        ):
            return _refused(401, "invalid request")
        # Exactly as Bolt will see it (``extract_content_type``), so both parse the same way.
        content_type = (headers.get("content-type") or "").split(";")[0] or None
        text = _readable(raw, content_type)
        if text is None:
            return _refused(400, "not a Slack payload")
        try:
            bolt_request = AsyncBoltRequest(
                body=text,
                query=dict(request.query_params),
                headers={key: [value] for key, value in headers.items()},
            )
            return to_starlette_response(await app.async_dispatch(bolt_request))
        except Exception:  # Bolt failed on a signed request: say so in the log, never a 500
            log.exception("Slack request could not be handled")
            return _refused(400, "not a Slack payload")

    return slack_events
