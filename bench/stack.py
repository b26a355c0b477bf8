"""The benchmark's servers: a real Restate, Redis and sample workflows, seeded with invocations.

Reuses ``bot.devstack`` (the same pinned binaries as the tests). Seeding goes through Restate's
ingress with ``/send`` (no waiting for results) on one HTTP/1.1 client, many requests in flight,
so 10,000 invocations take well under a minute on two cores. The mix gives doctor every kind
of row to read: completed (most), terminal failures, suspended (waiting for an approval),
backing-off (retrying every 30 s or more) and paused.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx2

from bot.devstack import RedisServer, RestateServer, WorkflowService
from core.restate.client import RestateAdminClient

RECOVERY = "IdentityRecoveryWorkflow"
INVITATION = "InvitationWorkflow"
PAUSING = "PausingWorkflow"
SEED_CONCURRENCY = 48

#: Share of each kind of invocation in the seed, by (service, mode); the rest succeed.
MIX: tuple[tuple[str, str, float], ...] = (
    (RECOVERY, "fail", 0.10),
    (INVITATION, "fail", 0.05),
    (RECOVERY, "hang", 0.02),
    (RECOVERY, "flaky", 0.01),
    (PAUSING, "run", 0.002),
)


@dataclass(frozen=True)
class Seeded:
    invocations: int
    seconds: float
    failed_keys: tuple[str, ...]


def plan(n: int) -> list[tuple[str, str]]:
    """(service, mode) for each of ``n`` invocations, interleaved so every kind is spread out."""
    counts = [(service, mode, round(n * share)) for service, mode, share in MIX]
    special = sum(count for _, _, count in counts)
    kinds = [(service, mode) for service, mode, count in counts for _ in range(count)]
    kinds += [(INVITATION, "succeed")] * max(0, n - special)
    # A stable shuffle: round-robin over the kinds' positions.
    step = 7919  # a prime, coprime with any n we use
    return [kinds[(i * step) % len(kinds)] for i in range(len(kinds))] if kinds else []


class BenchStack:
    """Restate + Redis + sample workflows on loopback, the workflows registered."""

    def __init__(self) -> None:
        self.restate = RestateServer()
        self.redis = RedisServer()
        self.workflows = WorkflowService()
        self.deployment_id = ""

    @property
    def admin_url(self) -> str:
        return self.restate.admin_url

    @property
    def ingress_url(self) -> str:
        return self.restate.ingress_url

    @property
    def redis_url(self) -> str:
        return self.redis.url

    async def __aenter__(self) -> Self:
        try:
            await asyncio.gather(self.restate.start(), self.redis.start(), self.workflows.start())
            async with RestateAdminClient(self.admin_url) as admin:
                registered = await admin.register_deployment(self.workflows.url, force=True)
            self.deployment_id = registered.id
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await asyncio.gather(
            self.workflows.aclose(),
            self.restate.aclose(),
            self.redis.aclose(),
            return_exceptions=True,
        )

    async def seed(self, n: int) -> Seeded:
        """Submit ``n`` workflow runs of the mix; wait until Restate has finished the quick ones."""
        started = time.perf_counter()
        tag = uuid.uuid4().hex[:6]
        failed: list[str] = []
        slots = asyncio.Semaphore(SEED_CONCURRENCY)
        limits = httpx2.Limits(max_connections=SEED_CONCURRENCY)
        async with httpx2.AsyncClient(timeout=60, limits=limits, trust_env=False) as http:

            async def submit(i: int, service: str, mode: str) -> None:
                key = f"seed-{tag}-{i}"
                if mode == "fail" and service == RECOVERY:
                    failed.append(key)
                async with slots:
                    url = f"{self.ingress_url}/{service}/{key}/run/send"
                    response = await http.post(url, json={"mode": mode})
                response.raise_for_status()

            await asyncio.gather(
                *(submit(i, service, mode) for i, (service, mode) in enumerate(plan(n)))
            )
        await self.wait_settled(n)
        return Seeded(n, time.perf_counter() - started, tuple(failed))

    async def wait_settled(self, n: int, timeout_s: float = 600.0) -> None:
        """Poll until at most the hanging and retrying runs are not yet completed or suspended."""
        expected_busy = sum(round(n * s) for _, m, s in MIX if m in ("flaky", "run"))
        sql = (
            "SELECT count(*) AS n FROM sys_invocation_status "
            "WHERE status NOT IN ('completed', 'suspended', 'paused', 'backing-off')"
        )
        deadline = time.monotonic() + timeout_s
        async with RestateAdminClient(self.admin_url, timeout=60) as admin:
            for delay in itertools.chain([0.2] * 50, itertools.repeat(1.0)):
                rows = await admin.query(sql)
                if int(rows[0].get("n", 0)) <= expected_busy:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"seeded invocations still running: {rows}")
                await asyncio.sleep(delay)
