"""Benchmark: a bulk action costs the same per item at 100 and 1,000 items, 8 calls at a time.

An in-process fake admin API answers every call after a fixed delay (the re-check query and each
PATCH), and counts how many PATCHes are in flight at once. For 100 and 1,000 paused invocations
it runs a kill through the real executor and prints the time per item, the 1,000/100 ratio
(linear: about 1), the speed-up over one-at-a-time (bounded: about the concurrency) and the most
calls seen in flight (never above the concurrency). Exits 1 when a ratio misses its target.

    .venv/bin/python -m bench.triage           # fake admin API, fixed latency
    .venv/bin/python -m bench.triage --live    # a local restate-server: purge 100, then 1,000
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

import httpx2

from core.restate.client import RestateAdminClient
from core.triage.execute import DEFAULT_CONCURRENCY, Executor
from core.triage.models import BulkAction, TriageItem

DELAY_S = 0.05
SIZES = (100, 1000)
#: Per-item time at 1,000 over per-item time at 100: linear means close to 1.
LINEAR_TARGET = 1.3
#: Sequential time over wall time: bounded concurrency should give most of the concurrency.
SPEEDUP_TARGET = DEFAULT_CONCURRENCY * 0.7
CREATED = "2026-12-02T06:00:00.000Z"
_IDS = re.compile(r"'(inv_[^']+)'")


class SlowAdmin(httpx2.AsyncBaseTransport):
    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        if request.url.path == "/query":  # the re-check, one per chunk (read ahead)
            await asyncio.sleep(DELAY_S)
            sql = json.loads(request.content)["query"]
            rows = [{"id": i, "status": "paused", "created_at": CREATED} for i in _IDS.findall(sql)]
            return httpx2.Response(200, json={"rows": rows}, request=request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(DELAY_S)
        finally:
            self.in_flight -= 1
        return httpx2.Response(200, request=request)


class NeverStopped:
    async def checkpoint(self, action_id: str, now_ms: int) -> str | None:
        return None


def action(size: int) -> BulkAction:
    items = [
        TriageItem(id=f"inv_{n:06d}", service="Wf", status="paused", created_at=CREATED)
        for n in range(size)
    ]
    return BulkAction(
        id="bulk_bench",
        action="kill",
        filter="bench",
        items=items,
        total_matched=size,
        requested_by="bench",
        requested_at=CREATED,
        needs_approval=False,
        request_id="req_bench",
    )


async def run(size: int) -> tuple[float, SlowAdmin]:
    transport = SlowAdmin()
    async with RestateAdminClient("http://admin.bench", transport=transport) as admin:
        executor = Executor(admin, NeverStopped(), concurrency=DEFAULT_CONCURRENCY)
        started = time.perf_counter()
        outcomes, _ = await executor.run(action(size))
        wall = time.perf_counter() - started
    assert all(o.outcome == "done" for o in outcomes), "every fake kill succeeds"
    return wall, transport


async def main() -> int:
    per_item: dict[int, float] = {}
    ok = True
    for size in SIZES:
        wall, transport = await run(size)
        per_item[size] = wall / size
        speedup = transport.calls * DELAY_S / wall
        print(
            f"{size:5d} items  {wall:6.2f} s  {per_item[size] * 1000:6.2f} ms/item  "
            f"speed-up {speedup:4.1f}x  most in flight {transport.most_in_flight}"
        )
        ok &= speedup >= SPEEDUP_TARGET and transport.most_in_flight <= DEFAULT_CONCURRENCY
    ratio = per_item[SIZES[1]] / per_item[SIZES[0]]
    print(f"per-item ratio {SIZES[1]}/{SIZES[0]}  {ratio:5.2f} (target <= {LINEAR_TARGET})")
    print(f"speed-up target >= {SPEEDUP_TARGET:.1f}x with concurrency {DEFAULT_CONCURRENCY}")
    return 0 if ok and ratio <= LINEAR_TARGET else 1


# --- live: the same executor against a real restate-server ---------------------------------------


async def live(sizes: tuple[int, ...] = SIZES) -> int:
    """Purge N terminal-failed workflow runs on a local Restate (started here), N = 100, 1,000."""
    from bot.devstack import RestateServer, WorkflowIngress, WorkflowService

    per_item: dict[int, float] = {}
    async with (
        RestateServer() as server,
        WorkflowService() as service,
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        await admin.register_deployment(service.url, force=True)
        for size in sizes:
            per_item[size] = await _live_purge(admin, ingress, size)
    ratio = per_item[sizes[-1]] / per_item[sizes[0]]
    print(f"live per-item ratio {sizes[-1]}/{sizes[0]}  {ratio:5.2f} (target <= {LINEAR_TARGET})")
    return 0 if ratio <= LINEAR_TARGET else 1


async def _live_purge(admin: RestateAdminClient, ingress: Any, size: int) -> float:
    """Seconds per item to purge ``size`` failed runs through the executor (re-checks included)."""
    from core.triage.select import current_states

    ids = await _failed_runs(ingress, admin, size)
    states = await current_states(admin, ids)
    items = [
        TriageItem(id=i, service="Wf", status="completed", created_at=states[i].created_at)
        for i in ids
    ]
    bulk = action(size).model_copy(update={"action": "purge", "items": items})
    executor = Executor(admin, NeverStopped(), concurrency=DEFAULT_CONCURRENCY)
    started = time.perf_counter()
    outcomes, _ = await executor.run(bulk)
    wall = time.perf_counter() - started
    done = sum(1 for o in outcomes if o.outcome == "done")
    print(f"live {size:5d} purges  {wall:6.2f} s  {wall / size * 1000:6.2f} ms/item  done {done}")
    for other in [o for o in outcomes if o.outcome != "done"][:3]:
        print(f"  not done: {other.id} {other.outcome}: {other.detail}")
    return wall / size


async def _failed_runs(ingress: Any, admin: RestateAdminClient, size: int) -> list[str]:
    """Submit ``size`` runs that fail terminally; return their ids once all have completed."""
    prefix = f"bench-{size}-{time.monotonic_ns()}-"
    slots = asyncio.Semaphore(32)

    async def one(n: int) -> str:
        async with slots:
            return str(
                (
                    await ingress.submit(
                        "IdentityRecoveryWorkflow", f"{prefix}{n}", {"mode": "fail"}
                    )
                ).invocation_id
            )

    ids = list(await asyncio.gather(*(one(n) for n in range(size))))
    while True:  # poll until every run has completed (a failing run ends in one attempt)
        rows = await admin.query(
            "SELECT count(*) AS n FROM sys_invocation WHERE status = 'completed' "  # noqa: S608
            f"AND starts_with(target_service_key, '{prefix}')"
        )
        if int(rows[0]["n"]) >= size:
            return ids
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    sys.exit(asyncio.run(live() if "--live" in sys.argv[1:] else main()))
