"""The watch's own queries and rules against a real Restate server, and the lease on real Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.devstack import WorkflowIngress, free_port
from bot.devstack.waiting import invocation_row
from bot.metrics import Metrics
from bot.watcher import run_watcher
from core.audit.store import audit_redis_client
from core.errors import WatchUnavailable
from core.restate.client import RestateAdminClient
from core.watch.catalog import Thresholds
from core.watch.engine import Watch, WatchConfig
from core.watch.hysteresis import AlertState
from core.watch.lease import LeaderLease
from core.watch.probe import read_watch
from core.watch.rules import Memory, evaluate
from core.watch.store import WatchStore
from tests.fakes import FakeAuditLog
from tests.integration.conftest import (
    RestateStack,
    StartRestate,
    StartWorkflowService,
    wait_for_status,
)

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
PAUSING = "PausingWorkflow"


async def pinned(admin: RestateAdminClient, key: str) -> None:
    """Poll until the key's run is pinned to a deployment (a run starts before its pin)."""
    async with asyncio.timeout(20):
        while True:
            row = await invocation_row(admin, RECOVERY, key)
            if row is not None and row.get("pinned_deployment_id"):
                return
            await asyncio.sleep(0.05)


async def test_every_rule_sees_its_trouble_on_a_real_server(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """Paused, backing-off, failed and zombie invocations are counted per service / deployment."""
    server = await fresh_restate()
    old, new = await start_workflow_service(), await start_workflow_service()
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        gone = await admin.register_deployment(old.url, force=True)
        await ingress.submit(RECOVERY, "zombie-hang", {"mode": "hang"})
        await ingress.submit(RECOVERY, "zombie-flaky", {"mode": "flaky"})
        await pinned(admin, "zombie-hang")
        await wait_for_status(admin, RECOVERY, "zombie-flaky", "backing-off")
        await admin.register_deployment(new.url, force=True)
        await admin.delete_deployment(gone.id)
        await ingress.submit(PAUSING, "paused", {})
        await ingress.submit(RECOVERY, "failed", {"mode": "fail"})
        await wait_for_status(admin, PAUSING, "paused", "paused")
        await wait_for_status(admin, RECOVERY, "failed", "completed")
        now = datetime.now(UTC)

        readout = await read_watch(
            admin,
            None,
            now=now,
            failure_window=timedelta(minutes=15),
            backing_off=timedelta(0),
            probe_timeout_s=5.0,
        )
        older = await read_watch(
            admin,
            None,
            now=now,
            failure_window=timedelta(minutes=15),
            backing_off=timedelta(hours=1),
            probe_timeout_s=5.0,
        )

    assert readout.stuck is not None
    assert (readout.stuck[PAUSING].paused, readout.stuck[RECOVERY].backing_off) == (1, 1)
    assert readout.failures == {RECOVERY: 1}
    assert readout.long_backing_off == {RECOVERY: 1}
    assert older.long_backing_off == {}
    assert readout.zombies == {gone.id: 2}
    assert readout.version is not None
    assert readout.version == readout.report.admin.version
    evaluation = evaluate(readout, Thresholds(), Memory({}), now)
    assert {"paused:" + PAUSING, "failures:" + RECOVERY, "zombies:" + gone.id} <= set(
        evaluation.conditions
    )
    assert "backing-off:" + RECOVERY in evaluation.conditions
    assert evaluation.unknown == frozenset()


async def test_a_watch_stopped_mid_acquire_still_gives_the_lease_up(
    redis_url: str, redis_prefix: str
) -> None:
    """The acquire landed in Redis but its reply never came back (cancelled at shutdown): the
    watch does not know it leads, and its release frees the lease all the same."""
    redis: Redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        lease = LeaderLease(redis, prefix=redis_prefix, owner="host:1:abc", ttl_ms=60_000)
        other = LeaderLease(redis, prefix=redis_prefix, owner="host:1:abcd", ttl_ms=60_000)
        watch = Watch(
            admin=None,  # type: ignore[arg-type]  # release reads nothing from Restate
            ingress=None,
            store=WatchStore(redis, prefix=redis_prefix),
            lease=lease,
            audit=FakeAuditLog(),
            notifier=None,
            config=WatchConfig(),
        )
        assert await lease.acquire() is not None  # the reply the watch never saw
        await other.release()  # another owner, even one sharing a prefix, frees nothing
        assert await lease.holder() is not None
        await watch.release()
        assert await lease.holder() is None
    finally:
        await redis.aclose()


async def test_the_lease_fences_off_an_old_leader(redis_url: str, redis_prefix: str) -> None:
    """A new leader gets a higher token; the old one can neither renew nor write with its own."""
    redis: Redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        first = LeaderLease(redis, prefix=redis_prefix, owner="a", ttl_ms=60_000)
        second = LeaderLease(redis, prefix=redis_prefix, owner="b", ttl_ms=60_000)
        store = WatchStore(redis, prefix=redis_prefix)
        old = await first.acquire()
        assert old is not None
        assert await first.acquire() == old  # renewed, same token
        assert await second.acquire() is None
        await redis.delete(
            first.key
        )  # what expiry does (real expiry: tests/integration/test_watch)
        new = await second.acquire()

        assert new is not None
        assert new.token > old.token
        assert await first.acquire() is None
        assert (await first.renew(old), await second.renew(new)) == (False, True)
        state = AlertState(
            rule="paused",
            target="X",
            status="open",
            count=1,
            summary="s",
            first_seen=datetime.now(UTC),
        )
        assert await store.save(old, {state.key: state}, Memory({}), datetime.now(UTC)) is False
        assert await store.alerts() == {}
        assert await store.save(new, {state.key: state}, Memory({}), datetime.now(UTC)) is True
        assert list(await store.alerts()) == [state.key]
        await first.release()  # not the holder: nothing happens
        assert await second.holder() == new.fence
        await second.release()
        assert await second.holder() is None
    finally:
        await redis.aclose()


async def test_without_redis_a_check_is_skipped_and_the_watcher_goes_on(
    restate_stack: RestateStack,
) -> None:
    """Redis down: each check fails as WATCH_UNAVAILABLE, is counted, and the loop carries on."""
    redis = audit_redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    metrics = Metrics()
    ticks: list[float] = []

    async def tick(interval_s: float) -> None:
        ticks.append(interval_s)
        if len(ticks) == 2:
            raise asyncio.CancelledError  # what serve's shutdown does to the task

    try:
        async with RestateAdminClient(restate_stack.admin_url) as admin:
            watch = Watch(
                admin=admin,
                ingress=None,
                store=WatchStore(redis, prefix="down:"),
                lease=LeaderLease(redis, prefix="down:", owner="a", ttl_ms=1000),
                audit=FakeAuditLog(),
                notifier=None,
                config=WatchConfig(),
            )
            with pytest.raises(WatchUnavailable):
                await watch.check()
            with pytest.raises(asyncio.CancelledError):
                await run_watcher(watch, metrics, interval_s=0.5, wait=tick)
    finally:
        await redis.aclose()
    errors = metrics.registry.get_sample_value(
        "restate_ops_watch_checks_total",
        {"environment": "default", "role": "leader", "result": "error"},
    )
    assert (ticks, errors) == ([0.5, 0.5], 2.0)
