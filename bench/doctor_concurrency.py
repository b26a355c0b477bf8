"""Benchmark: doctor probes its five components concurrently, not one after another.

Every admin/ingress request is answered after a fixed delay by an in-process fake. The wall time of
one doctor run is compared with the sum of the delays of the requests it made (what a sequential
doctor would take). Prints the ratio; exits 1 when it is above the target.

    make bench        # or: .venv/bin/python -m bench.doctor_concurrency
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

import httpx

from core.doctor import run_doctor
from core.restate.client import RestateAdminClient, RestateIngressClient

DELAY_S = 0.05
RUNS = 5
#: Concurrent probing should cost well under half of a sequential walk.
TARGET_RATIO = 0.5

_BODIES: dict[str, object] = {
    "/version": {"version": "1.7.12", "min_admin_api_version": 2, "max_admin_api_version": 4},
    "/deployments": {"deployments": []},
    "/services": {"services": []},
    "/query": {"rows": []},
    "/restate/health": {"services": []},
}


class SlowFake(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        await asyncio.sleep(DELAY_S)
        body = _BODIES.get(request.url.path, {})
        return httpx.Response(200, content=json.dumps(body).encode(), request=request)


async def one_run() -> tuple[float, float]:
    transport = SlowFake()
    async with (
        RestateAdminClient("http://admin.bench", transport=transport) as admin,
        RestateIngressClient("http://ingress.bench", transport=transport) as ingress,
    ):
        started = time.perf_counter()
        await run_doctor(admin, ingress, now=lambda: datetime.now(UTC))
        wall = time.perf_counter() - started
    return wall, transport.requests * DELAY_S


async def main() -> int:
    results = [await one_run() for _ in range(RUNS)]
    wall = min(w for w, _ in results)
    sequential = results[0][1]
    ratio = wall / sequential
    print(f"doctor wall time        {wall * 1000:7.1f} ms (best of {RUNS})")
    print(
        f"sequential equivalent   {sequential * 1000:7.1f} ms ({sequential / DELAY_S:.0f} requests)"
    )
    print(f"ratio wall/sequential   {ratio:7.2f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
