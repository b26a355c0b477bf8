"""Plan, then apply: previews are checked and audited, and a write runs the plan it previewed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Final

import httpx2
import pytest

from core.advice import advise
from core.audit import Actor
from core.authz import OPERATOR
from core.errors import (
    AdminRequestFailed,
    DeploymentNotFound,
    InvalidInput,
    PreviewOutdated,
    WorkflowRetryBlocked,
)
from core.models import (
    AdminReadout,
    CleanupPlan,
    CleanupResponse,
    DeploymentItem,
    DeploymentsReadout,
    DoctorReport,
    DrainState,
    IngressReadout,
    InvocationsReadout,
    RecoverResponse,
    ServicesReadout,
)
from core.operations import Attempt, Operations
from core.pending import PendingAction
from core.plans import rules
from core.restate.client import RestateAdminClient
from core.restate.queries import deployment_facts
from tests.fakes import FakeAuditLog
from tests.unit.write_fakes import KEY, RUN_ID, WF, FakeAdmin, restate_error

NOW = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
KEEP_URL = "http://ddwf:9080/"
CLEANUP: Final = "cleanup-stale-deployments"
RECOVER: Final = "recover-stuck-workflow"


def attempt() -> Attempt:
    return Attempt(actor=Actor(id="U0OPERATOR", surface="cli", role=OPERATOR), request_id="req_1")


@pytest.fixture
def fake() -> FakeAdmin:
    admin = FakeAdmin()
    admin.add_workflow()
    return admin


@pytest.fixture
def audit() -> FakeAuditLog:
    return FakeAuditLog()


@pytest.fixture
async def ops(fake: FakeAdmin, audit: FakeAuditLog) -> AsyncIterator[Operations]:
    admin: RestateAdminClient
    async with fake.client() as admin:
        yield Operations(
            admin=admin, ingress=None, audit=audit, live_service_url=KEEP_URL, now=lambda: NOW
        )


def fleet(fake: FakeAdmin) -> None:
    """dp_keep (kept), dp_old (drained) and dp_busy (one suspended run pinned to it)."""
    fake.services = []
    fake.add_workflow(deployment="dp_keep")
    fake.add_deployment("dp_old", "http://old:9080/", "2026-05-09T09:00:00.000000000Z")
    fake.add_deployment("dp_busy", "http://busy:9080/", "2026-05-09T09:30:00.000000000Z")
    fake.add_deployment("dp_keep", KEEP_URL, "2026-05-09T10:00:00.000000000Z")
    fake.add_run("suspended", run_id="inv_busy", key="busy", pinned="dp_busy")


def readout(items: list[DeploymentItem]) -> DoctorReport:
    """A healthy readout listing ``items``."""
    return DoctorReport(
        ingress=IngressReadout(status="ok"),
        admin=AdminReadout(status="ok"),
        deployments=DeploymentsReadout(status="ok", items=items),
        services=ServicesReadout(status="ok"),
        invocations=InvocationsReadout(status="ok"),
        checked_at="2026-05-09T10:00:00.000Z",
    )


def rows(response: CleanupResponse) -> dict[str, tuple[str, str | None, str | None]]:
    return {item.id: (item.action, item.reason, item.changed) for item in response.report}


def phases(audit: FakeAuditLog) -> list[tuple[str, str, str]]:
    finishes = {f.attempt_id: f.outcome for f in audit.finishes}
    return [(s.phase, s.route, finishes.get(s.attempt_id, "-")) for s in audit.starts]


# --- the shared rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latest_for", "pinned", "expected"),
    [
        (["Wf"], None, "active"),
        (["Wf"], 3, "active"),
        ([], 2, "draining"),
        ([], 0, "drained"),
        ([], None, "unknown"),
        (None, 0, "unknown"),
    ],
)
def test_drain_state_is_never_drained_on_a_missing_fact(
    latest_for: list[str] | None, pinned: int | None, expected: DrainState
) -> None:
    """Holding a latest revision is active; drained needs both facts known and zero pins."""
    assert expected == rules.drain_state(latest_for, pinned)


@pytest.mark.parametrize(
    ("status", "active"),
    [("completed", False), ("killed", False), ("cancelled", False), ("paused", True), ("x", True)],
)
def test_every_status_but_the_terminal_ones_is_active(status: str, active: bool) -> None:
    """Unknown future statuses are active, like paused and running."""
    assert active == rules.is_active(status)


def test_url_identity_has_two_named_relations() -> None:
    """An operator's URL names a deployment only exactly; Restate's endpoint ignores scheme."""
    assert rules.same_url("http://ddwf:9080/", "http://ddwf:9080")
    assert not rules.same_url("http://ddwf:9080/", "https://ddwf:9080/")
    assert rules.same_endpoint("http://ddwf:9080/", "https://DDWF:9080")


def test_a_url_copied_from_a_readout_names_its_credentialed_deployment() -> None:
    """Surfaces show user info as REDACTED; that copied form names the registration, no other."""
    registered = "http://admin:hunter2@ddwf:9080/"
    assert rules.same_url(registered, "http://REDACTED@ddwf:9080")
    assert not rules.same_url(registered, "http://REDACTED@ddwf:9081/")
    assert not rules.same_url("http://ddwf:9080/", "http://REDACTED@ddwf:9080/")
    assert not rules.same_url(registered, "http://admin:other@ddwf:9080/")


# --- previews are audited -----------------------------------------------------------------------


async def test_a_preview_is_audited_as_a_preview(ops: Operations, audit: FakeAuditLog) -> None:
    """A successful preview leaves a start (phase preview) and a succeeded finish."""
    await ops.preview(attempt(), "force-redeploy", {"serviceUrl": KEEP_URL})

    assert phases(audit) == [("preview", "force-redeploy", "succeeded")]


async def test_a_failed_preview_is_audited_with_its_code(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """A cleanup preview for an unregistered URL fails, and that failure is in the audit."""
    fleet(fake)

    with pytest.raises(DeploymentNotFound) as caught:
        await ops.preview(attempt(), CLEANUP, {"serviceUrl": "http://admin:hunter2@nope:1/"})

    assert caught.value.request_id == "req_1"
    assert "hunter2" not in caught.value.message
    assert phases(audit) == [("preview", CLEANUP, "failed")]
    assert audit.finishes[0].error_code == "RESTATE_DEPLOYMENT_NOT_FOUND"
    assert audit.starts[0].args == {"serviceUrl": "http://REDACTED@nope:1/"}


async def test_a_preview_answers_when_the_audit_store_is_down_but_the_write_does_not(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """A preview changes nothing, so it still answers; the write after it is refused."""
    fleet(fake)
    audit.available = False

    advice = await ops.preview(attempt(), CLEANUP, {"serviceUrl": KEEP_URL})
    with pytest.raises(Exception, match="audit") as caught:
        await ops.execute(attempt(), CLEANUP, advice.args, expected=advice.plan)

    assert getattr(caught.value, "code", None) == "AUDIT_UNAVAILABLE"
    assert fake.writes == []


# --- recover: the preview checks before asking ------------------------------------------------


async def test_recover_preview_names_the_runs_it_will_purge(
    ops: Operations, fake: FakeAdmin
) -> None:
    """The preview has checked the service and the key, and names the run ids it purges."""
    fake.add_run("completed", "failure")

    advice = await ops.preview(attempt(), RECOVER, {"serviceName": WF, "serviceKey": KEY})

    assert f"Checked: {WF} is a workflow" in advice.preview
    assert f"({RUN_ID})" in advice.preview
    assert fake.writes == []


async def test_recover_preview_of_an_unknown_service_names_the_field(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """A preview says the service does not exist before anyone is asked to confirm."""
    with pytest.raises(InvalidInput) as caught:
        await ops.preview(attempt(), RECOVER, {"serviceName": "Nope", "serviceKey": KEY})

    assert caught.value.field == "serviceName"
    assert phases(audit) == [("preview", RECOVER, "failed")]
    assert fake.writes == []


async def test_recover_preview_says_it_would_be_refused(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """An active run refuses at preview time with the write's own reason, audited as blocked."""
    fake.add_run("backing-off")

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await ops.preview(attempt(), RECOVER, {"serviceName": WF, "serviceKey": KEY})

    assert (caught.value.reason, caught.value.invocation_ids) == ("active-invocation", [RUN_ID])
    assert phases(audit) == [("preview", RECOVER, "blocked")]
    assert fake.writes == []


async def test_recover_runs_the_previewed_plan(ops: Operations, fake: FakeAdmin) -> None:
    """Confirming an unchanged preview purges exactly the runs it named."""
    fake.add_run("completed", "failure")
    args = {"serviceName": WF, "serviceKey": KEY}
    advice = await ops.preview(attempt(), RECOVER, args)

    result = await ops.execute(attempt(), RECOVER, args, expected=advice.plan)

    assert isinstance(result.response, RecoverResponse)
    assert result.response.purged == [RUN_ID]


async def test_recover_refuses_when_the_runs_changed_since_the_preview(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """A failed run that appeared after a "nothing to purge" preview is not purged unseen."""
    args = {"serviceName": WF, "serviceKey": KEY}
    advice = await ops.preview(attempt(), RECOVER, args)
    fake.add_run("completed", "failure")

    with pytest.raises(PreviewOutdated) as caught:
        await ops.execute(attempt(), RECOVER, args, expected=advice.plan)

    assert caught.value.changes == [
        f"the runs of {WF}/{KEY} were no run at the preview, {RUN_ID} now"
    ]
    assert fake.writes == []
    assert audit.finishes[-1].error_code == "PREVIEW_OUTDATED"


# --- cleanup: the preview is the plan; execution re-checks each step ---------------------------


async def cleanup_preview(ops: Operations) -> CleanupPlan:
    advice = await ops.preview(attempt(), CLEANUP, {"serviceUrl": KEEP_URL})
    assert isinstance(advice.plan, CleanupPlan)
    return advice.plan


async def execute_cleanup(ops: Operations, plan: CleanupPlan) -> CleanupResponse:
    result = await ops.execute(attempt(), CLEANUP, {"serviceUrl": KEEP_URL}, expected=plan)
    assert isinstance(result.response, CleanupResponse)
    return result.response


async def test_cleanup_preview_is_exactly_what_runs(ops: Operations, fake: FakeAdmin) -> None:
    """With nothing changed, the write deletes what the preview said and skips the rest."""
    fleet(fake)
    plan = await cleanup_preview(ops)

    response = await execute_cleanup(ops, plan)

    assert [(s.deployment.id, s.action, s.reason) for s in plan.steps] == [
        ("dp_keep", "keep", "matches-service-url"),
        ("dp_busy", "skip", "draining"),
        ("dp_old", "delete", "drained"),
    ]
    assert rows(response) == {
        "dp_keep": ("kept", "matches-service-url", None),
        "dp_busy": ("skipped", "draining", None),
        "dp_old": ("deleted", "drained", None),
    }


async def test_cleanup_skips_a_deployment_that_became_busy_after_the_preview(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A drained deployment that got a pinned run since the preview is skipped, saying so."""
    fleet(fake)
    plan = await cleanup_preview(ops)
    fake.add_run("running", run_id="inv_new", key="new", pinned="dp_old")

    response = await execute_cleanup(ops, plan)

    assert rows(response)["dp_old"] == (
        "skipped",
        "draining",
        "drained at the preview, draining now",
    )
    assert fake.writes == []


async def test_cleanup_never_deletes_what_the_preview_skipped(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A deployment that drained after the preview skipped it stays: nobody confirmed it."""
    fleet(fake)
    plan = await cleanup_preview(ops)
    fake.invocations = [r for r in fake.invocations if r["id"] != "inv_busy"]

    response = await execute_cleanup(ops, plan)

    assert rows(response)["dp_busy"] == (
        "skipped",
        "draining",
        "draining at the preview, drained now; not deleted: the preview skipped it",
    )
    assert fake.writes == ["DELETE /deployments/dp_old"]


async def test_cleanup_leaves_a_deployment_registered_after_the_preview(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A drained deployment the preview never listed is skipped as not-in-preview."""
    fleet(fake)
    plan = await cleanup_preview(ops)
    fake.add_deployment("dp_late", "http://late:9080/", "2026-05-09T09:45:00.000000000Z")

    response = await execute_cleanup(ops, plan)

    assert rows(response)["dp_late"] == (
        "skipped",
        "not-in-preview",
        "registered after the preview",
    )
    assert fake.writes == ["DELETE /deployments/dp_old"]


async def test_cleanup_reports_a_deployment_removed_since_the_preview(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A deployment deleted by someone else after the preview is reported already gone."""
    fleet(fake)
    plan = await cleanup_preview(ops)
    fake.deployments = [d for d in fake.deployments if d["id"] != "dp_old"]

    response = await execute_cleanup(ops, plan)

    assert rows(response)["dp_old"] == ("deleted", "already-gone", "gone before the cleanup ran")
    assert fake.writes == []


async def test_cleanup_refuses_when_the_kept_deployment_changed(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A newer registration of the kept URL since the preview refuses the whole cleanup."""
    fleet(fake)
    plan = await cleanup_preview(ops)
    fake.add_deployment("dp_newer", KEEP_URL, "2026-05-09T11:00:00.000000000Z")

    with pytest.raises(PreviewOutdated) as caught:
        await execute_cleanup(ops, plan)

    assert caught.value.changes == ["the deployment to keep is now dp_newer, not dp_keep"]
    assert fake.writes == []


async def test_doctor_advice_carries_the_plan_the_write_runs(
    ops: Operations, fake: FakeAdmin
) -> None:
    """The cleanup button's plan is the cleanup planner's, so confirming it runs it as shown."""
    fleet(fake)
    async with fake.client() as admin:
        items = (await deployment_facts(admin)).items
    (advice,) = advise(readout(items), live_service_url=KEEP_URL)

    assert isinstance(advice.plan, CleanupPlan)
    response = await execute_cleanup(ops, advice.plan)

    assert rows(response)["dp_old"] == ("deleted", "drained", None)


# --- force-redeploy: an explicitly empty URL is bad input ----------------------------------------


@pytest.mark.parametrize("phase", ["preview", "execute"])
async def test_an_explicitly_empty_service_url_is_invalid_input_never_the_default(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin, phase: str
) -> None:
    """`redeploy ""` is INVALID_INPUT naming serviceUrl, audited, with no call to Restate."""
    run = ops.preview if phase == "preview" else ops.execute

    with pytest.raises(InvalidInput) as caught:
        await run(attempt(), "force-redeploy", {"serviceUrl": "", "force": True})

    assert (caught.value.field, caught.value.rule) == ("serviceUrl", "must be a non-empty URL")
    assert fake.requests == []
    assert phases(audit) == [(phase, "force-redeploy", "failed")]


async def test_a_stored_offer_keeps_its_plan(ops: Operations, fake: FakeAdmin) -> None:
    """A Slack offer stored as JSON gives back the very plan its preview showed."""
    fleet(fake)
    advice = await ops.preview(attempt(), CLEANUP, {"serviceUrl": KEEP_URL})
    offer = PendingAction(
        route=CLEANUP, args=advice.args, preview=advice.preview, offered_to="U1", plan=advice.plan
    )

    assert PendingAction.model_validate_json(offer.model_dump_json()).plan == advice.plan


# --- force-redeploy: the preview is a dry run ----------------------------------------------------


async def test_redeploy_preview_is_a_dry_run_naming_what_it_overwrites(
    ops: Operations, fake: FakeAdmin
) -> None:
    """The preview runs discovery only, names the services and the deployment overwritten."""
    fleet(fake)

    advice = await ops.preview(attempt(), "force-redeploy", {"serviceUrl": KEEP_URL})

    assert (
        "Checked with a dry run: the service answered with IdentityRecoveryWorkflow (revision 1);"
        " registering overwrites dp_keep in place"
    ) in advice.preview
    assert fake.writes == []
    assert [r.method for r in fake.requests if r.url.path == "/deployments"] == ["POST", "GET"]


async def test_redeploy_preview_of_a_new_url_says_it_registers_a_new_deployment(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A URL no deployment has yet is previewed as a new registration."""
    advice = await ops.preview(attempt(), "force-redeploy", {"serviceUrl": "http://new:9080/"})

    assert "registering registers a new deployment (dp_new)." in advice.preview


async def test_redeploy_preview_reports_a_service_that_does_not_answer(
    ops: Operations, audit: FakeAuditLog, fake: FakeAdmin
) -> None:
    """Discovery failing in the dry run fails the preview with Restate's answer, unasked."""
    fake.fail("POST", "/deployments", restate_error(500, "[META0003] Connection refused"))

    with pytest.raises(AdminRequestFailed) as caught:
        await ops.preview(attempt(), "force-redeploy", {"serviceUrl": KEEP_URL})

    assert (caught.value.status, caught.value.restate_message) == (
        500,
        "[META0003] Connection refused",
    )
    assert phases(audit) == [("preview", "force-redeploy", "failed")]


async def test_a_cleanup_previewed_as_deleting_nothing_deletes_nothing(
    ops: Operations, fake: FakeAdmin
) -> None:
    """Confirming a "nothing is drained yet" preview never deletes what drained since."""
    fleet(fake)
    fake.deployments = [d for d in fake.deployments if d["id"] != "dp_old"]
    advice = await ops.preview(attempt(), CLEANUP, {"serviceUrl": KEEP_URL})
    fake.invocations = []
    assert (advice.kind, isinstance(advice.plan, CleanupPlan)) == ("inspect", True)

    result = await ops.execute(attempt(), CLEANUP, {"serviceUrl": KEEP_URL}, expected=advice.plan)

    assert isinstance(result.response, CleanupResponse)
    assert rows(result.response)["dp_busy"][:2] == ("skipped", "draining")
    assert fake.writes == []


async def test_cleanup_reads_the_usage_again_right_before_each_delete(
    ops: Operations, fake: FakeAdmin
) -> None:
    """A run that pins to a drained deployment while an earlier one is deleted saves it."""
    fleet(fake)
    fake.add_deployment("dp_old2", "http://old2:9080/", "2026-05-09T08:00:00.000000000Z")
    plan = await cleanup_preview(ops)

    def pin_during_first_delete(request: httpx2.Request) -> httpx2.Response | None:
        if request.method == "DELETE" and request.url.path == "/deployments/dp_old":
            fake.add_run("running", run_id="inv_late", key="late", pinned="dp_old2")
        return None

    fake.overrides.append(pin_during_first_delete)

    response = await execute_cleanup(ops, plan)

    assert rows(response)["dp_old2"] == (
        "skipped",
        "draining",
        "drained when the cleanup started, draining just before its delete",
    )
    assert fake.writes == ["DELETE /deployments/dp_old"]
