"""A write re-checks its previewed plan against a real restate-server when it runs.

Each test previews (plans from the server's facts), changes the world the way a second operator or
a running workflow would, then executes the previewed plan and checks the safe thing happened.
"""

from __future__ import annotations

import pytest

from bot.devstack import WorkflowIngress, free_port
from bot.devstack.waiting import invocation_row, wait_for_status
from core.audit import Actor
from core.audit.store import RedisAuditLog, audit_redis_client
from core.authz import OPERATOR
from core.errors import AdminRequestFailed, InvalidInput, PreviewOutdated, WorkflowRetryBlocked
from core.models import CleanupRequest, RecoverRequest, RedeployPlan
from core.operations import Attempt, Operations
from core.plans.cleanup import cleanup_stale_deployments, read_cleanup_plan
from core.plans.recover import read_recover_plan, recover_stuck_workflow
from core.plans.redeploy import check_redeploy
from core.restate.client import RestateAdminClient
from tests.integration.conftest import (
    RegisteredWorkflowService,
    StartRestate,
    StartWorkflowService,
)
from tests.integration.test_recovery_live import deployment_ids_eventually, wait_until_pinned

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"


async def test_cleanup_does_not_delete_what_drained_after_the_preview(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """Previewed as draining, drained by the time the write runs: skipped, saying what changed."""
    server = await fresh_restate()
    old, keep = await start_workflow_service(), await start_workflow_service()
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        old_id = (await admin.register_deployment(old.url, force=True)).id
        await ingress.submit(RECOVERY, "pinned", {"mode": "hang"})
        await wait_until_pinned(admin, RECOVERY, "pinned")
        keep_id = (await admin.register_deployment(keep.url, force=True)).id
        req = CleanupRequest(service_url=keep.url)
        preview = await read_cleanup_plan(admin, req)
        await ingress.approve(RECOVERY, "pinned", "approved")
        await wait_for_status(admin, RECOVERY, "pinned", "completed")

        response = await cleanup_stale_deployments(admin, req, expected=preview)

        assert [(s.deployment.id, s.action, s.reason) for s in preview.steps] == [
            (keep_id, "keep", "matches-service-url"),
            (old_id, "skip", "draining"),
        ]
        (row,) = [item for item in response.report if item.id == old_id]
        assert (row.action, row.reason, row.drain_state, row.changed) == (
            "skipped",
            "draining",
            "drained",
            "draining at the preview, drained now; not deleted: the preview skipped it",
        )
        assert {d.id for d in await admin.list_deployments()} == {old_id, keep_id}


async def test_cleanup_leaves_a_deployment_registered_after_the_preview(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """The previewed drained deployment is deleted; one registered since is left, with why."""
    server = await fresh_restate()
    old, keep, late = [await start_workflow_service() for _ in range(3)]
    async with RestateAdminClient(server.admin_url) as admin:
        old_id = (await admin.register_deployment(old.url, force=True)).id
        keep_id = (await admin.register_deployment(keep.url, force=True)).id
        req = CleanupRequest(service_url=keep.url)
        preview = await read_cleanup_plan(admin, req)
        late_id = (await admin.register_deployment(late.url, force=True)).id

        response = await cleanup_stale_deployments(admin, req, expected=preview)

        actions = {item.id: (item.action, item.reason, item.changed) for item in response.report}
        assert actions[old_id] == ("deleted", "drained", None)
        assert actions[late_id] == ("skipped", "not-in-preview", "registered after the preview")
        remaining = {keep_id, late_id}
        assert await deployment_ids_eventually(admin, remaining) == remaining


async def test_recover_refuses_a_run_that_failed_after_the_preview(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """Previewed with no run to purge, the key failed meanwhile: refused, the run left as is."""
    req = RecoverRequest(service_name=RECOVERY, service_key=workflow_key)
    preview = await read_recover_plan(restate_admin, req)
    submission = await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

    with pytest.raises(PreviewOutdated) as caught:
        await recover_stuck_workflow(restate_admin, req, expected=preview)

    assert preview.purge == []
    assert caught.value.changes == [
        f"the runs of {RECOVERY}/{workflow_key} were no run at the preview, "
        f"{submission.invocation_id} now"
    ]
    row = await invocation_row(restate_admin, RECOVERY, workflow_key)
    assert row is not None
    assert (row["id"], row["status"]) == (submission.invocation_id, "completed")


async def test_a_failed_preview_is_in_the_audit_stream(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """A recover preview of an unknown service is refused and recorded in Redis as a preview."""
    redis = audit_redis_client(redis_url)
    try:
        audit = RedisAuditLog(redis, f"{redis_prefix}audit")
        operations = Operations(admin=restate_admin, ingress=None, audit=audit)
        actor = Actor(id="alice", surface="cli", role=OPERATOR)
        args = {"serviceName": "NoSuchWorkflow", "serviceKey": "k1"}

        with pytest.raises(InvalidInput) as caught:
            await operations.preview(Attempt(actor), "recover-stuck-workflow", args)

        [view] = await audit.latest(1)
    finally:
        await redis.aclose()
    assert (view.start.phase, view.start.route, view.start.args) == (
        "preview",
        "recover-stuck-workflow",
        args,
    )
    assert (view.outcome, view.start.request_id) == ("failed", caught.value.request_id)
    assert view.finish is not None
    assert view.finish.error_code == "INVALID_INPUT"


async def test_recover_preview_refuses_an_active_key_and_changes_nothing(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """The preview reads the key's hanging run and refuses, as the write would, before asking."""
    running = await ingress.submit(RECOVERY, workflow_key, {"mode": "hang"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "suspended")
    req = RecoverRequest(service_name=RECOVERY, service_key=workflow_key)

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await read_recover_plan(restate_admin, req)

    assert (caught.value.reason, caught.value.invocation_ids) == (
        "active-invocation",
        [running.invocation_id],
    )
    row = await invocation_row(restate_admin, RECOVERY, workflow_key)
    assert row is not None
    assert row["status"] == "suspended"


async def test_redeploy_dry_run_names_the_overwrite_and_registers_nothing(
    workflow_service: RegisteredWorkflowService, restate_admin: RestateAdminClient
) -> None:
    """A dry run of the live URL finds its services and the deployment it would overwrite."""
    before = await restate_admin.list_deployments()

    check = await check_redeploy(restate_admin, RedeployPlan(service_url=workflow_service.url))

    assert (check.deployment_id, check.overwrites) == (workflow_service.deployment_id, True)
    assert any(name.startswith(f"{RECOVERY} (revision ") for name in check.services)
    assert before == await restate_admin.list_deployments()


async def test_redeploy_dry_run_of_a_dead_service_fails_like_the_write(
    restate_admin: RestateAdminClient,
) -> None:
    """Discovery against a port nobody listens on fails the dry run with Restate's META0003."""
    dead = f"http://127.0.0.1:{free_port()}/"

    with pytest.raises(AdminRequestFailed) as caught:
        await check_redeploy(restate_admin, RedeployPlan(service_url=dead))

    assert "META0003" in caught.value.restate_message
    assert all(d.uri != dead for d in await restate_admin.list_deployments())
