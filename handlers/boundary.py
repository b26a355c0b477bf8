"""Where text leaves the process for Slack: every Web API call and every response-URL post.

Restate stores a deployment URI with its user info (``http://user:password@host``), so any
renderer could echo a credential. Rather than trusting each renderer, the two ways out of the
process redact every string they carry with ``core.redact.redact_text``:

* :class:`RedactingWebClient` (``chat.postMessage``, ``chat.update``, ... every ``api_call``);
* :class:`RedactingRespond` (``respond()``, i.e. posts to a ``response_url``), which also raises
  :class:`ResponseUrlFailed` when Slack refuses the post, so callers can try another channel.

:class:`RedactSlackIO` is a global Bolt middleware that puts both into every request's context
(Bolt builds a fresh, plain ``AsyncWebClient`` per request), in HTTP and Socket Mode alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook import WebhookResponse

from core.redact import redact_text


def redact_strings(value: Any) -> Any:
    """``value`` with every string, at any depth, passed through ``redact_text``."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_strings(item) for item in value]
    if isinstance(value, Block | Attachment):
        return redact_strings(value.to_dict())
    return value


def _arguments(args: Any) -> Any:
    """An API call's arguments, redacted, except the credential the call authenticates with."""
    if not isinstance(args, Mapping):
        return redact_strings(args)
    return {key: item if key == "token" else redact_strings(item) for key, item in args.items()}


class RedactingWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose every API call has its strings redacted first.

    The top-level ``token`` argument is left alone: slack_sdk moves it into the Authorization
    header (``apps.connections.open`` passes the app-level token that way); it is never text.
    """

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: dict[str, str] | None = None,
    ) -> AsyncSlackResponse:
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=_arguments(data),
            params=_arguments(params),
            json=_arguments(json),
            headers=headers,
            auth=auth,
        )


class ResponseUrlFailed(SlackClientError):
    """Slack did not accept a post to a response URL (expired, used up, or Slack failing)."""


class RedactingRespond(AsyncRespond):
    """``respond()`` with every string redacted; a refused post raises ``ResponseUrlFailed``."""

    async def __call__(  # type: ignore[override]  # text is always a string here
        self,
        text: str = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        response = await super().__call__(
            text=redact_text(text),
            blocks=redact_strings(blocks) if blocks is not None else None,
            attachments=redact_strings(attachments) if attachments is not None else None,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            thread_ts=thread_ts,
            metadata=redact_strings(metadata) if metadata is not None else None,
        )
        if not 200 <= response.status_code < 300:
            raise ResponseUrlFailed(f"response_url answered HTTP {response.status_code}")
        return response


class RedactSlackIO(AsyncMiddleware):
    """A global middleware: every request's listeners get ``client`` and a redacting respond.

    ``client`` is the app's own (shared) client: Bolt's per-request copy would be a plain one.
    Class-based on purpose: Bolt's function middlewares get every listener argument built first,
    and building ``action`` crashes on a payload with an empty ``actions`` list.
    """

    def __init__(self, client: RedactingWebClient) -> None:
        self._client = client

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        # Bolt passes it by this name.
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        context["client"] = self._client
        respond = context.respond
        if respond is not None and not isinstance(respond, RedactingRespond):
            context["respond"] = RedactingRespond(
                response_url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl
            )
        return await next()
