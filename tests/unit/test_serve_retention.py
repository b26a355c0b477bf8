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


async def test_retention_runs_periodically_and_survives_an_outage() -> None:
    """The task keeps trimming after a failed round and stops only when cancelled."""
    audit = CountingAudit()
    task = asyncio.create_task(trim_audit(cast(RedisAuditLog, cast(Any, audit)), every_s=0.001))
    for _ in range(1000):
        if audit.calls >= 3:
            break
        await asyncio.sleep(0.001)
    assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert audit.calls >= 3
