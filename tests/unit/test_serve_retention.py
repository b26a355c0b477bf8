"""The audit retention task of `restate-ops serve`."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from bot.serve import trim_audit
from core.audit.store import RedisAuditLog
from core.errors import AuditUnavailable


class CountingAudit:
    """Trims nothing; fails once, to show a Redis outage does not end the task."""

    def __init__(self) -> None:
        self.calls = 0

    async def trim_expired(self) -> int:
        self.calls += 1
        if self.calls == 2:
            raise AuditUnavailable("redis is down")
        return 3


async def test_retention_runs_periodically_survives_an_outage_and_ends_when_halted() -> None:
    """The task keeps trimming after a failed round; halting ends it without a cancellation,
    and no round starts after the halt."""
    audit = CountingAudit()
    halt = asyncio.Event()
    task = asyncio.create_task(
        trim_audit(cast(RedisAuditLog, cast(Any, audit)), halt, every_s=0.001)
    )
    for _ in range(1000):
        if audit.calls >= 3:
            break
        await asyncio.sleep(0.001)
    assert not task.done()
    halt.set()
    await task
    calls = audit.calls
    await asyncio.sleep(0.01)
    assert (audit.calls, calls >= 3) == (calls, True)
