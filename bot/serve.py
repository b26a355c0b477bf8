"""`restate-ops serve`: the HTTP app under uvicorn and, given an app token, Slack Socket Mode too.

Both run in one event loop over one set of clients (``build_services``). SIGINT or SIGTERM (or the
caller's ``stop`` event) stops both: uvicorn finishes the requests in flight, the Socket Mode
connection is closed, then the clients. If either part dies on its own, the other is stopped too,
so the process never runs half a bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from bot.http import build_http_app
from bot.services import build_services
from bot.settings import Settings, SettingsError
from bot.watcher import start_watchers
from core.audit.store import RedisAuditLog
from core.errors import AuditUnavailable
from core.tasks import UNWIND_S, TaskSet, cancel_and_wait, pause

log = logging.getLogger(__name__)

#: How long uvicorn waits for requests in flight after a stop (an admin call times out in 10 s).
GRACEFUL_TIMEOUT_S = 15
#: How often the audit retention window is applied.
RETENTION_EVERY_S = 3600.0


def bind(host: str, port: int) -> socket.socket:
    """Listen now, so a taken port fails at start-up with a clear message, not inside uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SettingsError(f"HOST/PORT: cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` decides when to stop, for both parts."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while the block runs; restore the defaults after."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve until ``stop`` is set (or, without one, until SIGINT/SIGTERM).

    ``on_ready`` receives the base URL once the port is bound and the clients are built. ``sock``
    is a listening socket bound earlier by the caller (closed here); else ``HOST:PORT`` is bound.
    """
    if stop is None:
        stop = asyncio.Event()
        with stop_on_signals(stop):
            await _serve(settings, stop, on_ready, sock)
    else:
        await _serve(settings, stop, on_ready, sock)


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    on_ready: Callable[[str], None] | None,
    sock: socket.socket | None,
) -> None:
    with contextlib.closing(sock or bind(settings.host, settings.port)) as sock:
        async with build_services(settings) as services:
            slack_app = None
            slack_work = None
            if settings.slack_enabled:
                # Slack is optional: its modules are imported only when a token is configured.
                from bot.slack_app import build_slack_app
                from handlers.background import Background

                slack_work = Background()
                slack_app = build_slack_app(services, background=slack_work)
            runs = TaskSet()  # triage runs started over HTTP with "wait": false
            http_app = build_http_app(
                services, None if settings.socket_mode else slack_app, runs=runs
            )
            server = _Server(
                uvicorn.Config(
                    http_app,
                    log_config=None,  # keep our logging (and its redaction) as configured
                    lifespan="off",
                    timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
                    server_header=False,
                )
            )
            # Set when shutdown begins: the loops below end at their next turn even if a
            # cancellation is lost (core.tasks).
            halt = asyncio.Event()
            parts = {asyncio.create_task(server.serve(sockets=[sock]), name="http")}
            if slack_app is not None and settings.socket_mode and settings.slack_app_token:
                from bot.socket_mode import run_socket_mode

                token = settings.slack_app_token.get_secret_value()
                parts.add(
                    asyncio.create_task(run_socket_mode(slack_app, token), name="socket-mode")
                )
            if settings.watch_interval_s:
                parts.update(
                    start_watchers(services, slack_app.client if slack_app else None, halt)
                )
            if settings.audit_retention is not None:
                parts.add(
                    asyncio.create_task(trim_audit(services.audit, halt), name="audit-retention")
                )
            base_url = f"http://{settings.host}:{sock.getsockname()[1]}"
            names = {task.get_name() for task in parts}
            log.info(
                "serving %s%s%s",
                base_url,
                " and Slack Socket Mode" if "socket-mode" in names else "",
                f", watching every {settings.watch_interval_s:g}s"
                if any(name.startswith("watch") for name in names)
                else "",
            )
            if on_ready is not None:
                on_ready(base_url)
            try:
                await _run_until_stopped(server, parts, stop, halt)
            finally:
                # Work that outlived its request or ack finishes before the clients close.
                drains = [runs.drain(GRACEFUL_TIMEOUT_S)]
                if slack_work is not None:
                    drains.append(slack_work.drain(GRACEFUL_TIMEOUT_S))
                await asyncio.gather(*drains)


async def trim_audit(
    audit: RedisAuditLog, halt: asyncio.Event, every_s: float = RETENTION_EVERY_S
) -> None:
    """Apply the audit retention window periodically, off the write path (never per append),
    until ``halt`` is set."""
    while not halt.is_set():
        try:
            removed = await audit.trim_expired()
            if removed:
                log.info("audit retention removed %d entries", removed)
        except AuditUnavailable as exc:
            log.warning("audit retention skipped: %s", exc.message)
        await pause(every_s, halt)


async def _run_until_stopped(
    server: _Server, parts: set[asyncio.Task[None]], stop: asyncio.Event, halt: asyncio.Event
) -> None:
    """Wait for ``stop`` or for a part to end on its own; then stop every part.

    uvicorn finishes the requests in flight (within ``GRACEFUL_TIMEOUT_S``); the other parts are
    halted and cancelled until they end. A part that ended before ``stop`` is an error: it is
    raised once everything has stopped.
    """
    stopping = asyncio.create_task(stop.wait(), name="stop")
    done: set[asyncio.Task[Any]] = set()
    try:
        done, _ = await asyncio.wait({*parts, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        halt.set()
        server.should_exit = True
        http = {task for task in parts if task.get_name() == "http"}
        await cancel_and_wait(parts - http, limit_s=UNWIND_S)
        await asyncio.gather(*http, return_exceptions=True)
    for task in done & parts:
        error = task.exception() if not task.cancelled() else None
        if error is not None:
            raise RuntimeError(f"{task.get_name()} stopped: {error}") from error
        raise RuntimeError(f"{task.get_name()} stopped on its own")
