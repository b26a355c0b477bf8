"""A local fake of the Slack Web API (and of response URLs) that records every call.

Runs an aiohttp server on a free loopback port in the test's event loop. Point the bot at
``fake.api_url`` (``SLACK_API_URL``) and put ``fake.response_url(...)`` in request payloads.

    async with FakeSlack() as fake:
        ...
        posted = await fake.wait_for("chat.postMessage")

Answers ``auth.test``, ``chat.postMessage`` (with a fresh ts from the clock, as Slack's are;
``not_in_channel`` for channels in ``fake.not_in_channel``), ``conversations.history`` (the
channel's top-level posts between ``oldest`` and ``latest``, newest first, paged by ``limit`` and
``cursor``, with their ``metadata`` when ``include_all_metadata`` is set), ``chat.update``,
``chat.postEphemeral``, ``views.open|update|publish``
(echoing the view with an id) and ``usergroups.users.list``
(members from ``fake.group_members``, or ``fake.usergroups_error``). Response URL posts are
recorded as method ``response_url``. ``fake.failing[method] = status`` makes the method (or
``response_url``) answer that HTTP status with ``{"ok": false}``; the call is still recorded,
with ``failed=True``.

Socket Mode too: ``apps.connections.open`` hands out ``ws://…/socket``; ``fake.send_envelope``
delivers an envelope over it, and the client's acknowledgements are recorded as ``socket_ack``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBOTRESTATE"
BOT_ID = "BBOTRESTATE"
TEAM_ID = "T0TEAM"
RESPONSE_URL = "response_url"
SOCKET_ACK = "socket_ack"


@dataclass(frozen=True)
class SlackCall:
    """One request the bot made: the Web API method (or ``response_url``) and its parameters."""

    method: str
    params: dict[str, Any]
    token: str | None
    #: What the fake answered (e.g. the ``ts`` of a posted message).
    answer: dict[str, Any] = field(default_factory=dict)
    #: For response URL posts: the last path segment, to tell the URLs of several requests apart.
    hook: str | None = None
    #: The fake answered with an HTTP error (``FakeSlack.failing``): Slack did not take it.
    failed: bool = False

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def text(self) -> str:
        """The fallback text and every text in the blocks, for assertions about content."""
        return "\n".join(
            [str(self.params.get("text") or ""), json.dumps(self.blocks, ensure_ascii=False)]
        )


Where = Callable[[SlackCall], bool]


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.group_members: dict[str, list[str]] = {}
        self.usergroups_error: str | None = None
        self.not_in_channel: set[str] = set()
        #: Methods (or ``response_url``) answered with this HTTP status instead of success.
        self.failing: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._ts = 0
        self._last_ts_us = 0
        #: Top-level messages posted per channel, oldest first, as ``conversations.history``
        #: returns them (with their metadata).
        self.history: dict[str, list[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        self.base_url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_route("*", "/hooks/{hook}", self._hook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def aclose(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, hook: str) -> str:
        return f"{self.base_url}/hooks/{hook}"

    # --- what was called ---------------------------------------------------------------------

    def calls_to(self, method: str, where: Where | None = None) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    def delivered(self, method: str, where: Where | None = None) -> list[SlackCall]:
        """The calls to ``method`` that Slack accepted (not answered with an HTTP error)."""
        return [c for c in self.calls_to(method, where) if not c.failed]

    async def wait_for(
        self,
        method: str,
        where: Where | None = None,
        *,
        count: int = 1,
        timeout: float = 20.0,  # noqa: ASYNC109 - a polling deadline, like wait_for_status's
    ) -> list[SlackCall]:
        """Wait until ``count`` calls to ``method`` match ``where``; fail with what was seen."""
        try:
            async with asyncio.timeout(timeout):
                while len(found := self.calls_to(method, where)) < count:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            seen = "\n".join(f"{c.method}: {c.text[:300]}" for c in self.calls)
            raise AssertionError(
                f"no {count} x {method} within {timeout}s; calls:\n{seen}"
            ) from None
        return found

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver a Socket Mode envelope once a client is connected; return its envelope id."""
        async with asyncio.timeout(20):
            while not self._sockets:
                self._changed.clear()
                await self._changed.wait()
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    # --- server ------------------------------------------------------------------------------

    def _record(self, call: SlackCall) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        status = self.failing.get(method)
        if status is not None:
            self._record(SlackCall(method, params, token, failed=True))
            return web.json_response({"ok": False, "error": "fatal_error"}, status=status)
        answer = self._answer(method, params)
        self._record(SlackCall(method, params, token, answer))
        return web.json_response(answer)

    async def _hook(self, request: web.Request) -> web.Response:
        params = await request.json() if request.can_read_body else dict(request.query)
        hook = request.match_info["hook"]
        status = self.failing.get(RESPONSE_URL)
        self._record(SlackCall(RESPONSE_URL, params, None, hook=hook, failed=status is not None))
        if status is not None:
            return web.Response(status=status, text="failed")
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._sockets.append(socket)
        self._changed.set()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self._record(SlackCall(SOCKET_ACK, json.loads(message.data), None))
        self._sockets.remove(socket)
        return socket

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "user": "restate-ops",
                "team": "Acme",
            }
        if method == "chat.postMessage":
            channel = str(params.get("channel"))
            if channel in self.not_in_channel:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            if not params.get("thread_ts"):
                self._remember(channel, ts, params)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "conversations.history":
            return self._history(params)
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket"}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1700000000.999999"}
        if method in ("views.open", "views.update", "views.publish"):
            self._ts += 1
            view_id = str(params.get("view_id") or f"V{self._ts:08d}")
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else dict(view or {})
            return {"ok": True, "view": {**view, "id": view_id}}
        if method == "usergroups.users.list":
            if self.usergroups_error:
                return {"ok": False, "error": self.usergroups_error}
            return {"ok": True, "users": self.group_members.get(str(params.get("usergroup")), [])}
        return {"ok": False, "error": "unknown_method"}

    def _next_ts(self) -> str:
        """Slack's ts: the time of the post in microseconds, unique and increasing."""
        micros = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _remember(self, channel: str, ts: str, params: dict[str, Any]) -> None:
        message: dict[str, Any] = {"type": "message", "ts": ts, "bot_id": BOT_ID}
        message["text"] = params.get("text") or ""
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.history.setdefault(channel, []).append(message)

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel in self.not_in_channel:
            return {"ok": False, "error": "not_in_channel"}
        inclusive = _truthy(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or time.time() + 1)

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = [m for m in self.history.get(channel, []) if within(float(m["ts"]))][::-1]
        if not _truthy(params.get("include_all_metadata")):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def _truthy(value: object) -> bool:
    return str(value).lower() in ("1", "true")
