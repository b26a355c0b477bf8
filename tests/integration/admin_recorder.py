"""A recording proxy in front of the real Restate admin API: what did the bot ask Restate to do?

The bot is pointed at :attr:`RecordingAdminProxy.url`; every request is forwarded unchanged to the
real server and its method and path are kept, so a test can assert that some input led to no
Restate *write* at all (not merely that the state happens to look the same afterwards).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

import httpx
from aiohttp import web

#: Requests that change nothing in Restate: reads, and SQL introspection (POST /query).
_READS = {("POST", "/query")}
_FORWARDED_HEADERS = ("content-type", "accept")


class RecordingAdminProxy:
    """Forwards to ``target`` and records ``(method, path)`` of every request, in order."""

    def __init__(self, target: str) -> None:
        self._target = target.rstrip("/")
        self.requests: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._client: httpx.AsyncClient | None = None
        self._writes_open = asyncio.Event()
        self._writes_open.set()
        self.url = ""

    def hold_writes(self) -> None:
        """Keep every write waiting (recorded, not forwarded) until :meth:`release_writes`."""
        self._writes_open.clear()

    def release_writes(self) -> None:
        self._writes_open.set()

    def writes(self, since: int = 0) -> list[tuple[str, str]]:
        """The requests (from the ``since``-th on) that may change something in Restate."""
        recorded = self.requests[since:]
        return [r for r in recorded if r[0] not in ("GET", "HEAD") and r not in _READS]

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        self.requests.append((request.method, request.path))
        if self.writes(len(self.requests) - 1):
            await self._writes_open.wait()
        headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED_HEADERS}
        upstream = await self._client.request(
            request.method, request.path_qs, content=body, headers=headers
        )
        content_type = upstream.headers.get("content-type")
        return web.Response(
            status=upstream.status_code,
            body=upstream.content,
            headers={"content-type": content_type} if content_type else None,
        )

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(base_url=self._target, timeout=30, trust_env=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.aclose()
