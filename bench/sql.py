"""What each doctor SQL query costs Restate, next to the alternatives that were considered."""

from __future__ import annotations

import json
import time

from bench.doctor import Probe
from bench.measure import median
from bench.report import Row
from bench.stack import BenchStack
from core.restate.client import RestateAdminClient

_STATUSES = ("pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused")
#: Names for what doctor sends, by a phrase of its SQL (recorded from a real doctor run).
_NAMES = (
    ("sys_deployment", "pinned invocations per deployment (correlated)"),
    ("GROUP BY status", "invocation counts (GROUP BY status)"),
    ("completion_result = 'failure'", "recent failures"),
    ("'backing-off'", "stuck invocations"),
    ("sys_journal_events", "why the paused ones paused"),
)
#: The alternatives measured against doctor's queries.
ALTERNATIVES: dict[str, str] = {
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


def doctor_sql(probes: list[Probe]) -> dict[str, str]:
    """The SQL statements one doctor run sent, by name."""
    found: dict[str, str] = {}
    for probe in probes:
        if probe.url.endswith("/query"):
            sql = str(json.loads(probe.content)["query"])
            name = next((n for phrase, n in _NAMES if phrase in sql), f"query {len(found) + 1}")
            found[name] = sql
    return found


async def sql_rows(stack: BenchStack, probes: list[Probe], samples: int) -> list[Row]:
    queries = {**doctor_sql(probes), **ALTERNATIVES}
    times: dict[str, list[float]] = {name: [] for name in queries}
    async with RestateAdminClient(stack.admin_url, timeout=60) as admin:
        for _ in range(samples):  # interleaved: each round runs every query once
            for name, sql in queries.items():
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
