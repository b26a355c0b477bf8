"""What each doctor SQL query costs Restate, next to the alternatives that were considered."""

from __future__ import annotations

import time

from bench.measure import median
from bench.report import Row
from bench.stack import BenchStack
from core.restate import queries
from core.restate.client import RestateAdminClient

_STATUSES = ("pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused")
#: What doctor sends, then the alternatives measured against it (marked "alt").
DOCTOR_SQL: dict[str, str] = {
    "invocation counts (GROUP BY status)": queries.INVOCATION_COUNTS_SQL,
    "pinned invocations per deployment (correlated)": queries.PINNED_SQL,
    "recent failures": queries.recent_failures_sql(),
    "stuck invocations": queries.stuck_sql(),
    "alt: counts as one conditional sum per status": (
        "SELECT count(*) AS total, "  # noqa: S608 - constant statuses only
        + ", ".join(
            f"sum(CASE WHEN status = '{s}' THEN 1 ELSE 0 END) AS \"{s}\"" for s in _STATUSES
        )
        + " FROM sys_invocation"
    ),
    "alt: pinned as GROUP BY pinned_deployment_id": (
        "SELECT pinned_deployment_id AS id, count(*) AS n FROM sys_invocation_status "
        "WHERE status != 'completed' GROUP BY pinned_deployment_id"
    ),
    "alt: counts and pinned in one GROUP BY": (
        "SELECT status, pinned_deployment_id AS id, count(*) AS n FROM sys_invocation_status "
        "GROUP BY status, pinned_deployment_id"
    ),
}


async def sql_rows(stack: BenchStack, samples: int) -> list[Row]:
    times: dict[str, list[float]] = {name: [] for name in DOCTOR_SQL}
    async with RestateAdminClient(stack.admin_url, timeout=60) as admin:
        for _ in range(samples):  # interleaved: each round runs every query once
            for name, sql in DOCTOR_SQL.items():
                started = time.perf_counter()
                await admin.query(sql)
                times[name].append(time.perf_counter() - started)
    return [
        Row(
            f"SQL: {name}",
            f"{median(values) * 1000:.0f} ms (best {min(values) * 1000:.0f} ms)",
            "",
            None,
            {"median_ms": median(values) * 1000, "best_ms": min(values) * 1000},
        )
        for name, values in times.items()
    ]
