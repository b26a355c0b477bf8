"""The local stack against the real binaries: each workflow mode lands in the state the product
will have to diagnose, and the servers survive restarts the way the product's tests need."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.devstack import RedisServer, WorkflowIngress
from bot.devstack.waiting import discarded_afterwards, wait_for_status
from bot.devstack.workflows import TERMINAL_FAILURE_MESSAGE
from core.errors import AdminUnreachable
from core.restate.client import RestateAdminClient
from core.restate.sql import literal
from tests.integration.conftest import (
    RegisteredWorkflowService,
    StartRestate,
    StartWorkflowService,
)

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
INVITATION = "InvitationWorkflow"
PAUSING = "PausingWorkflow"


@pytest.mark.parametrize("service", [RECOVERY, INVITATION])
async def test_succeed_completes_with_blank_prior_step(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
    service: str,
) -> None:
    """A first `succeed` run completes successfully and reports that it found no prior step."""
    submission = await ingress.submit(service, workflow_key, {"mode": "succeed"})

    row = await wait_for_status(restate_admin, service, workflow_key, "completed")

    assert row["id"] == submission.invocation_id
    assert row["completion_result"] == "success"
    assert row["pinned_deployment_id"] == workflow_service.deployment_id
    output = await ingress.output(service, workflow_key)
    assert output.succeeded
    assert output.body == {"priorStep": None}


async def test_fail_completes_with_terminal_failure(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A `fail` run ends completed/failure with the TerminalError message behind `[500]`."""
    await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})

    row = await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

    assert row["completion_result"] == "failure"
    assert row["completion_failure"] == f"[500] {TERMINAL_FAILURE_MESSAGE}"
    output = await ingress.output(RECOVERY, workflow_key)
    assert output.failed
    assert output.body["message"] == TERMINAL_FAILURE_MESSAGE


async def test_hang_suspends_until_approved(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A `hang` run suspends on its approval promise and returns the value `approve` sends."""
    await ingress.submit(RECOVERY, workflow_key, {"mode": "hang"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "suspended")
    assert (await ingress.output(RECOVERY, workflow_key)).pending

    await ingress.approve(RECOVERY, workflow_key, {"approvedBy": "alice"})

    row = await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")
    assert row["completion_result"] == "success"
    output = await ingress.output(RECOVERY, workflow_key)
    assert output.body == {"approvedBy": "alice"}


async def test_flaky_sits_in_backing_off(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A `flaky` run fails transiently and waits in `backing-off` with the error recorded."""
    async with discarded_afterwards(restate_admin, RECOVERY, workflow_key):
        await ingress.submit(RECOVERY, workflow_key, {"mode": "flaky"})

        row = await wait_for_status(restate_admin, RECOVERY, workflow_key, "backing-off")

        assert row["retry_count"] >= 1
        assert row["last_failure_error_code"] == "RT0007"
        assert "TransientUpstreamError" in row["last_failure"]
        assert (await ingress.output(RECOVERY, workflow_key)).pending


async def test_pausing_workflow_ends_paused(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """PausingWorkflow gives up after its two attempts and is `paused`, not failed."""
    async with discarded_afterwards(restate_admin, PAUSING, workflow_key):
        await ingress.submit(PAUSING, workflow_key, {"mode": "flaky"})

        row = await wait_for_status(restate_admin, PAUSING, workflow_key, "paused")

        assert "completion_result" not in row
        events = await restate_admin.query(
            "SELECT event_json FROM sys_journal_events "  # noqa: S608 - values via literal()
            f"WHERE id = {literal(row['id'])} AND event_type = 'Paused'"
        )
        assert events, "a paused invocation records why in sys_journal_events"
        assert "TransientUpstreamError" in events[0]["event_json"]


async def test_purged_run_starts_from_blank_state(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """After a failed run is purged, a new `succeed` run on the key sees no prior step."""
    await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
    failed = await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")
    step = await restate_admin.query(
        "SELECT value_utf8 FROM state "  # noqa: S608 - values via literal()
        f"WHERE service_name = {literal(RECOVERY)} "
        f"AND service_key = {literal(workflow_key)} AND key = 'step'"
    )
    assert step == [{"value_utf8": '"started"'}]

    await restate_admin.purge_invocation(failed["id"])
    await ingress.submit(RECOVERY, workflow_key, {"mode": "succeed"})

    await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")
    assert (await ingress.output(RECOVERY, workflow_key)).body == {"priorStep": None}


async def test_redis_restart_keeps_aof_written_key() -> None:
    """A key written before a redis-server stop is read back after start, from the AOF alone."""
    async with RedisServer() as redis_server:
        client: Redis = Redis.from_url(redis_server.url)
        try:
            await client.set("devstack:aof", "kept")
        finally:
            await client.aclose()
        port = redis_server.port

        await redis_server.stop()
        assert not redis_server.running
        await redis_server.start()

        assert redis_server.port == port
        assert list(redis_server.work_dir.glob("appendonlydir/*.aof")), "AOF files exist"
        assert not list(redis_server.work_dir.glob("*.rdb")), "no RDB snapshot to restore from"
        client = Redis.from_url(redis_server.url)
        try:
            assert await client.get("devstack:aof") == b"kept"
        finally:
            await client.aclose()


async def test_session_redis_takes_writes_under_the_test_prefix(
    redis_url: str, redis_prefix: str
) -> None:
    """The session redis accepts stream entries under a prefix that no other test shares."""
    client: Redis = Redis.from_url(redis_url)
    try:
        stream = f"{redis_prefix}audit"
        assert await client.xlen(stream) == 0
        await client.xadd(stream, {"action": "noop"})
        assert await client.xlen(stream) == 1
    finally:
        await client.aclose()


async def test_restate_restart_keeps_registration(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """While stopped the admin API is unreachable; after start it answers on the same port with
    the deployment still registered and runnable."""
    server = await fresh_restate()
    service = await start_workflow_service()
    async with RestateAdminClient(server.admin_url) as admin:
        deployment = await admin.register_deployment(service.url, force=True)
        admin_url = server.admin_url

        await server.stop()
        with pytest.raises(AdminUnreachable):
            await admin.health()
        await server.start()

        assert server.admin_url == admin_url
        assert deployment.id in {d.id for d in await admin.list_deployments()}
        async with WorkflowIngress(server.ingress_url) as client:
            await client.submit(RECOVERY, "after-restart", {"mode": "succeed"})
        row = await wait_for_status(admin, RECOVERY, "after-restart", "completed")
        assert row["pinned_deployment_id"] == deployment.id


async def test_stopped_workflow_service_leaves_runs_backing_off(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """A run sent to a deployment whose service was stopped backs off with a connection error."""
    server = await fresh_restate()
    service = await start_workflow_service()
    async with RestateAdminClient(server.admin_url) as admin:
        await admin.register_deployment(service.url, force=True)
        await service.stop()

        async with WorkflowIngress(server.ingress_url) as client:
            await client.submit(RECOVERY, "dead", {"mode": "succeed"})
        row = await wait_for_status(admin, RECOVERY, "dead", "backing-off")

        assert "completion_result" not in row
        assert row.get("last_failure"), "the connection failure is recorded"


async def test_several_workflow_services_run_at_once(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """Two sample services on distinct ports register as two deployments; the latest one wins."""
    server = await fresh_restate()
    first = await start_workflow_service()
    second = await start_workflow_service()
    assert first.port != second.port
    async with RestateAdminClient(server.admin_url) as admin:
        old = await admin.register_deployment(first.url, force=True)
        new = await admin.register_deployment(second.url, force=True)

        assert {old.id, new.id} == {d.id for d in await admin.list_deployments()}
        assert (await admin.get_service(RECOVERY)).deployment_id == new.id
