"""`restate-ops audit tail|verify`: the audit trail only, over a Redis client of its own.

Reading the trail needs no Restate client, so these commands skip the composition root
(``bot.services``) and its imports: they start sooner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.cli.exits import ExitCode
from bot.cli.terminal import Io
from bot.settings import Settings
from core.audit.store import RedisAuditLog, audit_redis_client
from core.audit.views import render_lines, render_verify, view_json

#: As ``bot.services.REDIS_TIMEOUT_S`` (a unit test keeps them equal): fail fast on a dead Redis.
REDIS_TIMEOUT_S = 2.0


@asynccontextmanager
async def audit_log(settings: Settings) -> AsyncIterator[RedisAuditLog]:
    redis = audit_redis_client(str(settings.redis_url), timeout=REDIS_TIMEOUT_S)
    try:
        yield RedisAuditLog(redis, settings.audit_stream, retention=settings.audit_retention)
    finally:
        await redis.aclose()


async def tail(settings: Settings, io: Io, count: int) -> ExitCode:
    """The newest ``count`` attempts, oldest first so the newest ends up last, as with tail(1)."""
    async with audit_log(settings) as audit:
        views = list(reversed(await audit.latest(count)))
    now = datetime.now(UTC)
    if io.json:
        io.dump([view_json(view, now) for view in views])
    else:
        for line in render_lines(views, now).splitlines():
            io.line(line)
    return ExitCode.OK


async def verify(settings: Settings, io: Io) -> ExitCode:
    """Walk the hash chain; exit 8 when a link is modified, missing or deleted."""
    async with audit_log(settings) as audit:
        result = await audit.verify()
    if io.json:
        io.dump(result.model_dump(mode="json"))
    else:
        io.line(render_verify(result))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED
