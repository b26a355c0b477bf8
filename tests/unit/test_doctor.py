"""doctor against a fake Restate: each component is judged on its own answers only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from core.doctor import run_doctor
from core.errors import AdminUnreachable
from core.models import DoctorReport, to_json_dict
from core.restate.client import RestateAdminClient, RestateIngressClient
from tests.unit.admin_fakes import (
    DOWN,
    HANG,
    FakeRestate,
    Reply,
    deployment,
    paused_event,
    service,
)

NOW = datetime(2026, 5, 9, 10, 11, 12, 345678, tzinfo=UTC)
FAST_TIMEOUT_S = 0.2


def healthy_restate() -> FakeRestate:
    """Three deployments (active, draining, drained), two services, failures and stuck runs."""
    return FakeRestate(
        deployments=[
            deployment("dp_old", "http://ddwf-old:9080/", "2026-05-09T09:00:00.000000000Z"),
            deployment("dp_live", "http://ddwf:9080/v1", "2026-05-09T10:00:00.527000000Z"),
            deployment("dp_mid", "http://ddwf-mid:9080/", "2026-05-09T09:30:00.000000000Z"),
        ],
        services=[
            service("InvitationWorkflow", "dp_live", revision=3),
            service("IdentityRecoveryWorkflow", "dp_live", revision=3),
        ],
        ingress_services=["IdentityRecoveryWorkflow", "InvitationWorkflow"],
        rows={
            "pinned": [
                {"id": "dp_live", "pinned_active": 2},
                {"id": "dp_mid", "pinned_active": 1},
                {"id": "dp_old", "pinned_active": 0},
            ],
            "counts": [
                {"status": "backing-off", "n": 1},
                {"status": "completed", "n": 4},
                {"status": "paused", "n": 1},
            ],
            "failures": [
                {
                    "id": "inv_fail",
                    "target_service_name": "IdentityRecoveryWorkflow",
                    "target_service_key": "fail1",
                    "target_handler_name": "run",
                    "completion_failure": "[500] upstream provider returned a terminal failure",
                    "completed_at": "2026-05-09T10:07:19.000Z",
                    "modified_at": "2026-05-09T10:07:19.000Z",
                },
                {
                    # A plain service: no key column, and no completed_at to fall back on.
                    "id": "inv_killed",
                    "target_service_name": "Greeter",
                    "target_handler_name": "greet",
                    "completion_failure": "[409] killed",
                    "modified_at": "2026-05-09T10:06:00.5Z",
                },
            ],
            "stuck": [
                {
                    "id": "inv_paused",
                    "target_service_name": "PausingWorkflow",
                    "target_service_key": "p1",
                    "target_handler_name": "run",
                    "status": "paused",
                    "modified_at": "2026-05-09T10:05:00.000Z",
                },
                {
                    "id": "inv_flaky",
                    "target_service_name": "IdentityRecoveryWorkflow",
                    "target_service_key": "flaky1",
                    "target_handler_name": "run",
                    "status": "backing-off",
                    "retry_count": 3,
                    "last_failure_error_code": "RT0007",
                    "last_failure": "[500 Internal] TransientUpstreamError('timed out')\n"
                    "Traceback (most recent call last):\n  ...",
                    "modified_at": "2026-05-09T10:04:00.000Z",
                },
            ],
            "paused": [paused_event("inv_paused", "TransientUpstreamError('pausing')")],
        },
    )


@dataclass
class Stack:
    fake: FakeRestate
    admin: RestateAdminClient
    ingress: RestateIngressClient

    async def doctor(self, probe_timeout_s: float = 5.0) -> DoctorReport:
        return await run_doctor(
            self.admin, self.ingress, now=lambda: NOW, probe_timeout_s=probe_timeout_s
        )


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    fake = healthy_restate()
    async with fake.admin() as admin, fake.ingress() as ingress:
        yield Stack(fake, admin, ingress)


def statuses(report: DoctorReport) -> dict[str, str]:
    return {
        "ingress": report.ingress.status,
        "admin": report.admin.status,
        "deployments": report.deployments.status,
        "services": report.services.status,
        "invocations": report.invocations.status,
    }


ALL_OK = {c: "ok" for c in ("ingress", "admin", "deployments", "services", "invocations")}


def without_latency(body: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in part.items() if k != "latencyMs"}
        if isinstance(part, dict)
        else part
        for name, part in body.items()
    }


# --- a healthy stack ----------------------------------------------------------------------------


async def test_healthy_readout_uses_the_seed_field_names_and_values(stack: Stack) -> None:
    """A healthy stack reads ok everywhere, with drain states, failures and stuck runs."""
    expected = {
        "ingress": {"status": "ok", "error": None},
        "admin": {"status": "ok", "version": "1.7.12", "error": None},
        "deployments": {
            "status": "ok",
            "items": [
                {
                    "id": "dp_live",
                    "serviceUrl": "http://ddwf:9080/v1",
                    "createdAt": "2026-05-09T10:00:00.527Z",
                    "drainState": "active",
                    "pinnedInvocations": 2,
                    "latestFor": ["IdentityRecoveryWorkflow", "InvitationWorkflow"],
                },
                {
                    "id": "dp_mid",
                    "serviceUrl": "http://ddwf-mid:9080/",
                    "createdAt": "2026-05-09T09:30:00.000Z",
                    "drainState": "draining",
                    "pinnedInvocations": 1,
                    "latestFor": [],
                },
                {
                    "id": "dp_old",
                    "serviceUrl": "http://ddwf-old:9080/",
                    "createdAt": "2026-05-09T09:00:00.000Z",
                    "drainState": "drained",
                    "pinnedInvocations": 0,
                    "latestFor": [],
                },
            ],
            "error": None,
        },
        "services": {
            "status": "ok",
            "items": [
                {
                    "name": "IdentityRecoveryWorkflow",
                    "revision": 3,
                    "type": "Workflow",
                    "deploymentId": "dp_live",
                },
                {
                    "name": "InvitationWorkflow",
                    "revision": 3,
                    "type": "Workflow",
                    "deploymentId": "dp_live",
                },
            ],
            "error": None,
        },
        "invocations": {
            "status": "ok",
            "byStatus": {"backing-off": 1, "completed": 4, "paused": 1},
            "recentFailures": [
                {
                    "id": "inv_fail",
                    "serviceName": "IdentityRecoveryWorkflow",
                    "serviceKey": "fail1",
                    "handler": "run",
                    "failedAt": "2026-05-09T10:07:19.000Z",
                    "errorMessage": "[500] upstream provider returned a terminal failure",
                },
                {
                    "id": "inv_killed",
                    "serviceName": "Greeter",
                    "serviceKey": None,
                    "handler": "greet",
                    "failedAt": "2026-05-09T10:06:00.500Z",
                    "errorMessage": "[409] killed",
                },
            ],
            "stuck": [
                {
                    "id": "inv_paused",
                    "serviceName": "PausingWorkflow",
                    "serviceKey": "p1",
                    "handler": "run",
                    "status": "paused",
                    "retryCount": None,
                    "errorCode": "RT0007",
                    "errorMessage": "TransientUpstreamError('pausing')",
                    "modifiedAt": "2026-05-09T10:05:00.000Z",
                },
                {
                    "id": "inv_flaky",
                    "serviceName": "IdentityRecoveryWorkflow",
                    "serviceKey": "flaky1",
                    "handler": "run",
                    "status": "backing-off",
                    "retryCount": 3,
                    "errorCode": "RT0007",
                    "errorMessage": "[500 Internal] TransientUpstreamError('timed out')",
                    "modifiedAt": "2026-05-09T10:04:00.000Z",
                },
            ],
            "error": None,
            "unknown": [],
        },
        "checkedAt": "2026-05-09T10:11:12.345Z",
        "verdict": {
            "status": "attention",
            "summary": "all components ok; 2 failed runs, 2 stuck runs need attention",
            "failures": 2,
            "stuck": 2,
        },
    }

    report = await stack.doctor()

    assert expected == without_latency(to_json_dict(report))


async def test_latency_is_measured_for_components_that_answered(stack: Stack) -> None:
    """Ingress and admin latencies are whole milliseconds when the probes got an answer."""
    report = await stack.doctor()

    assert (
        isinstance(report.ingress.latency_ms, int) and report.ingress.latency_ms >= 0,
        isinstance(report.admin.latency_ms, int) and report.admin.latency_ms >= 0,
    ) == (True, True)


async def test_services_list_is_fetched_once_for_both_readouts(stack: Stack) -> None:
    """One GET /services feeds both the services readout and the deployments' drain state."""
    await stack.doctor()

    assert stack.fake.asked["services"] == 1


async def test_doctor_without_admin_url_raises_admin_unreachable(stack: Stack) -> None:
    """Without an admin URL doctor cannot probe anything and raises RESTATE_ADMIN_UNREACHABLE."""
    with pytest.raises(AdminUnreachable) as raised:
        await run_doctor(None, stack.ingress, now=lambda: NOW)

    assert raised.value.code == "RESTATE_ADMIN_UNREACHABLE"


async def test_empty_stack_reads_ok_with_empty_lists() -> None:
    """A server with nothing registered is healthy, not degraded."""
    fake = FakeRestate()
    async with fake.admin() as admin, fake.ingress() as ingress:
        report = await run_doctor(admin, ingress, now=lambda: NOW)

    assert (
        statuses(report),
        report.deployments.items,
        report.services.items,
        report.invocations.by_status,
    ) == (ALL_OK, [], [], {})


# --- one component failing alone ---------------------------------------------------------------


async def test_ingress_down_marks_only_ingress_unreachable(stack: Stack) -> None:
    """A refused ingress connection leaves the four admin-side components ok."""
    stack.fake.broken["ingress"] = DOWN

    report = await stack.doctor()

    assert (
        statuses(report),
        report.ingress.latency_ms,
    ) == ({**ALL_OK, "ingress": "unreachable"}, None)


async def test_ingress_not_configured_reads_unreachable_with_a_reason(stack: Stack) -> None:
    """Without an ingress URL the ingress reads unreachable and says it is not configured."""
    report = await run_doctor(stack.admin, None, now=lambda: NOW)

    assert (
        statuses(report),
        report.ingress.error,
    ) == ({**ALL_OK, "ingress": "unreachable"}, "no Restate ingress URL is configured")


async def test_ingress_error_status_reads_degraded(stack: Stack) -> None:
    """An ingress that answers 503 is degraded (it answered) and its latency is kept."""
    stack.fake.broken["ingress"] = Reply(503, "overloaded")

    report = await stack.doctor()

    assert (
        statuses(report),
        report.ingress.latency_ms is not None,
    ) == ({**ALL_OK, "ingress": "degraded"}, True)


async def test_admin_health_down_marks_only_admin_unreachable(stack: Stack) -> None:
    """A failing /health does not stop the list and SQL probes from reporting ok."""
    stack.fake.broken["health"] = DOWN

    report = await stack.doctor()

    assert (
        statuses(report),
        report.admin.version,
        report.admin.latency_ms,
    ) == ({**ALL_OK, "admin": "unreachable"}, None, None)


async def test_version_error_degrades_admin_and_leaves_version_null(stack: Stack) -> None:
    """A 500 from /version with a healthy /health reads degraded, with the reason."""
    stack.fake.broken["version"] = Reply(500, '{"message": "boom"}')

    report = await stack.doctor()

    assert (
        statuses(report),
        report.admin.version,
        "answered 500: boom" in (report.admin.error or ""),
    ) == ({**ALL_OK, "admin": "degraded"}, None, True)


async def test_deployment_list_error_degrades_deployments_without_items(stack: Stack) -> None:
    """A 500 from GET /deployments degrades deployments only; the services list is unaffected."""
    stack.fake.broken["deployments"] = Reply(500, '{"message": "registry unavailable"}')

    report = await stack.doctor()

    assert (
        statuses(report),
        report.deployments.items,
        "registry unavailable" in (report.deployments.error or ""),
    ) == ({**ALL_OK, "deployments": "degraded"}, [], True)


async def test_usage_sql_failure_keeps_deployments_listed_with_unknown_drain(stack: Stack) -> None:
    """When the pinned-invocation SQL fails, items stay listed; only `active` is still known."""
    stack.fake.broken["pinned"] = Reply(500, '{"message": "Datafusion error"}')

    report = await stack.doctor()

    assert (
        statuses(report),
        [(d.id, d.drain_state, d.pinned_invocations) for d in report.deployments.items],
        (report.deployments.error or "").startswith("drain state unknown"),
    ) == (
        {**ALL_OK, "deployments": "degraded"},
        [("dp_live", "active", None), ("dp_mid", "unknown", None), ("dp_old", "unknown", None)],
        True,
    )


async def test_services_down_marks_services_unreachable_and_drain_unknown(stack: Stack) -> None:
    """Without the service list, services read unreachable and deployments degraded, not more."""
    stack.fake.broken["services"] = DOWN

    report = await stack.doctor()

    assert (
        statuses(report),
        [d.drain_state for d in report.deployments.items],
        [d.pinned_invocations for d in report.deployments.items],
    ) == (
        {**ALL_OK, "services": "unreachable", "deployments": "degraded"},
        ["unknown", "unknown", "unknown"],
        [2, 1, 0],
    )


async def test_usage_failure_without_deployments_is_not_a_degradation() -> None:
    """With no deployments there is no drain state to miss, so a failing usage query is moot."""
    fake = FakeRestate(broken={"pinned": Reply(500, "nope")})
    async with fake.admin() as admin, fake.ingress() as ingress:
        report = await run_doctor(admin, ingress, now=lambda: NOW)

    assert report.deployments.status == "ok"


async def test_query_500_degrades_invocations_and_keeps_other_answers(stack: Stack) -> None:
    """A 500 on the counts query degrades invocations; failures and stuck runs are still shown."""
    stack.fake.broken["counts"] = Reply(500, '{"message": "Datafusion error: Schema error"}')

    report = await stack.doctor()

    assert (
        statuses(report),
        report.invocations.by_status,
        len(report.invocations.recent_failures),
        len(report.invocations.stuck),
        "Schema error" in (report.invocations.error or ""),
    ) == ({**ALL_OK, "invocations": "degraded"}, {}, 2, 2, True)


async def test_every_query_down_marks_invocations_unreachable(stack: Stack) -> None:
    """When no invocation query gets through the transport, invocations read unreachable."""
    for kind in ("counts", "failures", "stuck"):
        stack.fake.broken[kind] = DOWN

    report = await stack.doctor()

    assert statuses(report) == {**ALL_OK, "invocations": "unreachable"}


async def test_malformed_json_from_services_reads_degraded(stack: Stack) -> None:
    """A 200 whose body is not JSON is an unexpected answer: degraded, not unreachable."""
    stack.fake.broken["services"] = Reply(200, "{not json")

    report = await stack.doctor()

    assert statuses(report) == {**ALL_OK, "services": "degraded", "deployments": "degraded"}


async def test_malformed_query_rows_read_degraded(stack: Stack) -> None:
    """SQL rows that do not fit (a count that is not a number) degrade invocations."""
    stack.fake.rows["counts"] = [{"status": "completed", "n": "many"}]

    report = await stack.doctor()

    assert (
        statuses(report),
        "unexpected count row" in (report.invocations.error or ""),
    ) == ({**ALL_OK, "invocations": "degraded"}, True)


async def test_paused_reason_lookup_failure_keeps_the_stuck_list(stack: Stack) -> None:
    """The paused reason only decorates the stuck list: its failure hides nothing."""
    stack.fake.broken["paused"] = Reply(500, '{"message": "no such table"}')

    report = await stack.doctor()

    assert (
        report.invocations.status,
        [item.id for item in report.invocations.stuck],
        report.invocations.stuck[0].error_message,
    ) == ("ok", ["inv_paused", "inv_flaky"], None)


# --- timeouts and a dead admin API --------------------------------------------------------------


async def test_hanging_deployment_list_times_out_as_unreachable(stack: Stack) -> None:
    """A /deployments that never answers reads unreachable after the probe timeout, alone."""
    stack.fake.broken["deployments"] = HANG

    report = await stack.doctor(probe_timeout_s=FAST_TIMEOUT_S)

    assert (
        statuses(report),
        report.deployments.error,
    ) == (
        {**ALL_OK, "deployments": "unreachable"},
        "deployment list: Restate admin API at http://admin.test:9070 timed out on "
        "GET /deployments (no answer within 0.2s)",
    )


async def test_hanging_probes_time_out_together_not_one_after_another(stack: Stack) -> None:
    """Five hanging components wait out their timeouts together, not one after another."""
    hanging = ("ingress", "health", "deployments", "services", "counts", "failures", "stuck")
    for target in hanging:
        stack.fake.broken[target] = HANG

    report = await stack.doctor(probe_timeout_s=FAST_TIMEOUT_S)

    assert ({c: "unreachable" for c in ALL_OK}, len(hanging)) == (
        statuses(report),
        stack.fake.hanging_peak,
    )


async def test_dead_admin_api_still_returns_a_readout(stack: Stack) -> None:
    """With every admin call refused, doctor returns: admin side unreachable, ingress ok."""
    for target in ("health", "version", "deployments", "services", "counts", "failures", "stuck"):
        stack.fake.broken[target] = DOWN
    stack.fake.broken["pinned"] = DOWN

    report = await stack.doctor()

    assert {c: "unreachable" for c in ALL_OK} | {"ingress": "ok"} == statuses(report)


async def test_checked_at_is_utc_even_for_a_non_utc_clock(stack: Stack) -> None:
    """checkedAt is ISO 8601 UTC with milliseconds whatever time zone `now` uses."""
    from datetime import timedelta, timezone

    paris = datetime(2026, 5, 9, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))

    report = await run_doctor(stack.admin, stack.ingress, now=lambda: paris)

    assert to_json_dict(report)["checkedAt"] == "2026-05-09T10:00:00.000Z"


# --- the verdict ---------------------------------------------------------------------------------


async def test_verdict_asks_for_attention_when_workflows_failed_or_are_stuck(stack: Stack) -> None:
    """Every component ok but failed and stuck runs: attention, not "all ok"."""
    report = await stack.doctor()

    assert (report.verdict.status, report.verdict.failures, report.verdict.stuck) == (
        "attention",
        2,
        2,
    )


async def test_verdict_is_ok_only_without_failures_or_stuck_runs() -> None:
    """A healthy server with nothing failed or stuck is ok, with counts of zero."""
    fake = FakeRestate()
    async with fake.admin() as admin, fake.ingress() as ingress:
        report = await run_doctor(admin, ingress, now=lambda: NOW)

    assert report.verdict.model_dump() == {
        "status": "ok",
        "summary": "all components ok; no failed or stuck runs",
        "failures": 0,
        "stuck": 0,
    }


async def test_verdict_counts_are_unknown_when_their_query_failed(stack: Stack) -> None:
    """A failed failures query makes the failure count unknown (None), never 0."""
    stack.fake.broken["failures"] = Reply(500, '{"message": "query engine down"}')

    report = await stack.doctor()

    assert (report.verdict.status, report.verdict.failures, report.verdict.stuck) == (
        "degraded",
        None,
        2,
    )
    assert report.verdict.summary.endswith("failures unknown")
    assert to_json_dict(report)["invocations"]["unknown"] == ["recentFailures"]


async def test_verdict_of_an_unreachable_admin_api_has_unknown_counts(stack: Stack) -> None:
    """With the admin API down the verdict is unreachable and nothing is counted as 0."""
    for target in ("health", "version", "deployments", "services", "pinned"):
        stack.fake.broken[target] = DOWN
    for target in ("counts", "failures", "stuck"):
        stack.fake.broken[target] = DOWN

    report = await stack.doctor()

    assert (report.verdict.status, report.verdict.failures, report.verdict.stuck) == (
        "unreachable",
        None,
        None,
    )
    assert "fix connectivity first" in report.verdict.summary


async def test_verdict_is_always_derived_never_stale(stack: Stack) -> None:
    """A copy with another component, or a readout read back from JSON, judges itself again."""
    report = await stack.doctor()
    degraded = report.model_copy(
        update={"services": report.services.model_copy(update={"status": "degraded"})}
    )

    assert (report.verdict.status, degraded.verdict.status) == ("attention", "degraded")
    assert DoctorReport.model_validate_json(degraded.model_dump_json()).verdict == degraded.verdict
