"""doctor (and the advice drawn from it) against a real restate-server and real workflows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.devstack import WorkflowIngress, free_port
from bot.devstack.binaries import restate_version
from bot.devstack.waiting import discarded_afterwards, wait_for_status
from bot.devstack.workflows import SERVICE_NAMES, TERMINAL_FAILURE_MESSAGE
from core.advice import advise
from core.doctor import run_doctor
from core.models import DeploymentItem, DoctorReport, to_json_dict
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.restate.queries import deployment_facts, workflow_runs
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
)

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
PAUSING = "PausingWorkflow"
ISO_UTC_MS = "%Y-%m-%dT%H:%M:%S.%fZ"


async def doctor(admin_url: str, ingress_url: str, probe_timeout_s: float = 5.0) -> DoctorReport:
    async with (
        RestateAdminClient(admin_url) as admin,
        RestateIngressClient(ingress_url) as ingress,
    ):
        return await run_doctor(
            admin, ingress, now=lambda: datetime.now(UTC), probe_timeout_s=probe_timeout_s
        )


def statuses(report: DoctorReport) -> dict[str, str]:
    return {
        "ingress": report.ingress.status,
        "admin": report.admin.status,
        "deployments": report.deployments.status,
        "services": report.services.status,
        "invocations": report.invocations.status,
    }


ALL_OK = {c: "ok" for c in ("ingress", "admin", "deployments", "services", "invocations")}


def by_id(report: DoctorReport) -> dict[str, DeploymentItem]:
    return {item.id: item for item in report.deployments.items}


# --- the session's server ---------------------------------------------------------------------


async def test_healthy_stack_lists_the_registered_deployment_and_services(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> None:
    """The registered deployment shows its exact URI, is active, and its services are listed."""
    report = await doctor(restate_stack.admin_url, restate_stack.ingress_url)

    item = by_id(report)[workflow_service.deployment_id]
    assert statuses(report) == ALL_OK
    assert report.admin.version == restate_version()
    assert (item.service_url, item.drain_state, item.latest_for) == (
        workflow_service.url,
        "active",
        sorted(SERVICE_NAMES),
    )
    assert {s.name for s in report.services.items} >= set(SERVICE_NAMES)
    assert {s.type for s in report.services.items if s.name in SERVICE_NAMES} == {
        "Workflow",
        "Service",  # EchoService (triage's restart-as-new)
    }
    shown = to_json_dict(report)
    datetime.strptime(shown["checkedAt"], ISO_UTC_MS)  # raises if not ISO 8601 UTC
    datetime.strptime(to_json_dict(item)["createdAt"] or "", ISO_UTC_MS)


async def test_failed_key_appears_in_recent_failures_with_its_key(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A TerminalError run is listed first in recentFailures with serviceKey, error and time."""
    submission = await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

    report = await doctor(restate_stack.admin_url, restate_stack.ingress_url)

    mine = [f for f in report.invocations.recent_failures if f.service_key == workflow_key]
    assert [(f.id, f.service_name, f.handler, f.error_message) for f in mine] == [
        (submission.invocation_id, RECOVERY, "run", f"[500] {TERMINAL_FAILURE_MESSAGE}")
    ]
    datetime.strptime(to_json_dict(mine[0])["failedAt"] or "", ISO_UTC_MS)
    assert report.invocations.by_status.get("completed", 0) >= 1
    assert report.verdict.status == "attention"
    assert report.verdict.failures is not None
    assert report.verdict.failures >= 1


async def test_failed_key_is_advised_for_recovery(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """The readout of a real terminal failure yields a recover advice for that exact key."""
    await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

    report = await doctor(restate_stack.admin_url, restate_stack.ingress_url)
    advice = advise(report, live_service_url=workflow_service.url)

    assert {"serviceName": RECOVERY, "serviceKey": workflow_key} in [
        a.args for a in advice if a.kind == "recover-stuck-workflow"
    ]


async def test_workflow_runs_reads_the_failed_run_of_a_key(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """workflow_runs returns the key's one run, completed with a failure."""
    submission = await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
    await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

    runs = await workflow_runs(restate_admin, RECOVERY, workflow_key, "run")

    assert [(r.id, r.active, r.failed, r.succeeded) for r in runs] == [
        (submission.invocation_id, False, True, False)
    ]


async def test_backing_off_key_appears_in_stuck(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A run that keeps failing transiently is listed as backing-off with its retry error."""
    async with discarded_afterwards(restate_admin, RECOVERY, workflow_key):
        await ingress.submit(RECOVERY, workflow_key, {"mode": "flaky"})
        await wait_for_status(restate_admin, RECOVERY, workflow_key, "backing-off")

        report = await doctor(restate_stack.admin_url, restate_stack.ingress_url)

    (item,) = [s for s in report.invocations.stuck if s.service_key == workflow_key]
    assert (item.status, item.handler, item.error_code) == ("backing-off", "run", "RT0007")
    assert (item.retry_count or 0) >= 1
    assert "upstream provider timed out (flaky mode)" in (item.error_message or "")
    assert "\n" not in (item.error_message or "")
    assert report.invocations.by_status.get("backing-off", 0) >= 1


async def test_paused_key_appears_in_stuck_with_the_pause_reason(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A paused run is listed with the error kept only in its Paused journal event."""
    async with discarded_afterwards(restate_admin, PAUSING, workflow_key):
        await ingress.submit(PAUSING, workflow_key, {})
        await wait_for_status(restate_admin, PAUSING, workflow_key, "paused")

        report = await doctor(restate_stack.admin_url, restate_stack.ingress_url)

    (item,) = [s for s in report.invocations.stuck if s.service_key == workflow_key]
    assert (item.status, item.error_code) == ("paused", "RT0007")
    assert "upstream provider timed out (pausing workflow)" in (item.error_message or "")


async def test_unreachable_ingress_marks_only_ingress(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> None:
    """An ingress URL on a closed port reads unreachable while the admin side stays ok."""
    closed = f"http://127.0.0.1:{free_port()}"

    report = await doctor(restate_stack.admin_url, closed)

    assert statuses(report) == {**ALL_OK, "ingress": "unreachable"}
    assert (report.ingress.latency_ms, bool(report.ingress.error)) == (None, True)


# --- isolated servers ---------------------------------------------------------------------------


async def test_drain_state_follows_latest_revision_and_pinned_runs(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """An old deployment is draining while a run is pinned to it and drained once it finished."""
    server = await fresh_restate()
    old_service, new_service = await start_workflow_service(), await start_workflow_service()
    key = "drain-check"
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        old = (await admin.register_deployment(old_service.url, force=True)).id
        await ingress.submit(RECOVERY, key, {"mode": "hang"})
        await wait_for_status(admin, RECOVERY, key, ("running", "suspended"))
        new = (await admin.register_deployment(new_service.url, force=True)).id

        while_pinned = by_id(await doctor(server.admin_url, server.ingress_url))
        usage = {item.id: item for item in (await deployment_facts(admin)).items}
        await ingress.approve(RECOVERY, key, "approved")
        await wait_for_status(admin, RECOVERY, key, "completed")
        after = by_id(await doctor(server.admin_url, server.ingress_url))

    assert (while_pinned[old].drain_state, while_pinned[old].pinned_invocations) == ("draining", 1)
    assert (while_pinned[new].drain_state, while_pinned[new].latest_for) == (
        "active",
        sorted(SERVICE_NAMES),
    )
    assert {dep: u.drain_state for dep, u in usage.items()} == {old: "draining", new: "active"}
    assert (after[old].drain_state, after[old].pinned_invocations) == ("drained", 0)
    assert (after[old].service_url, after[new].service_url) == (old_service.url, new_service.url)


async def test_admin_api_down_reads_unreachable_and_doctor_still_returns(
    fresh_restate: StartRestate,
) -> None:
    """With the server stopped, every admin-side component reads unreachable and doctor returns."""
    server = await fresh_restate()
    await server.stop()

    started = time.monotonic()
    report = await doctor(server.admin_url, server.ingress_url, probe_timeout_s=2.0)
    elapsed = time.monotonic() - started

    assert statuses(report) == {c: "unreachable" for c in ALL_OK}
    assert all(
        part.error
        for part in (report.admin, report.deployments, report.services, report.invocations)
    )
    assert elapsed < 5.0
    assert [a.kind for a in advise(report, live_service_url="http://127.0.0.1:9080/")] == [
        "fix-connectivity"
    ]
    # Nothing could be counted, so nothing reads as zero.
    assert (report.verdict.status, report.verdict.failures, report.verdict.stuck) == (
        "unreachable",
        None,
        None,
    )
