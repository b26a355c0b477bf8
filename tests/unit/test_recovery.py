"""The three write routes against a fake Restate admin API (:class:`FakeAdmin`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2
import pytest

from core.errors import (
    AdminRequestFailed,
    AdminUnreachable,
    DeploymentNotFound,
    InvalidInput,
    WorkflowRetryBlocked,
)
from core.models import (
    CleanupItem,
    CleanupRequest,
    ForceRedeployRequest,
    RecoverRequest,
    parse_request,
)
from core.plans.cleanup import cleanup_stale_deployments
from core.plans.recover import recover_stuck_workflow
from core.plans.redeploy import force_redeploy
from core.restate.client import RestateAdminClient
from tests.unit.write_fakes import KEY, RUN_ID, WF, FakeAdmin, reply, restate_error


@pytest.fixture
def fake() -> FakeAdmin:
    admin = FakeAdmin()
    admin.add_workflow()
    admin.state[(WF, KEY)] = 2
    return admin


@pytest.fixture
async def admin(fake: FakeAdmin) -> AsyncIterator[RestateAdminClient]:
    async with fake.client() as client:
        yield client


def recover_request(key: str = KEY, service: str = WF) -> RecoverRequest:
    return RecoverRequest(service_name=service, service_key=key)


# --- recover-stuck-workflow ---------------------------------------------------------------------


async def test_recover_purges_a_terminal_failed_run_and_clears_state(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A terminal-failed run is killed (409 tolerated), purged, then the keyed state is cleared."""
    fake.add_run("completed", "failure")

    response = await recover_stuck_workflow(admin, recover_request())

    assert response.acknowledged is True
    assert response.purged == [RUN_ID]
    assert response.killed == []
    assert response.state_cleared is True
    assert response.warnings == []
    assert fake.writes == [
        f"PATCH /invocations/{RUN_ID}/kill",
        f"PATCH /invocations/{RUN_ID}/purge",
        f"POST /services/{WF}/state",
    ]
    assert fake.invocations == []
    assert (WF, KEY) not in fake.state


@pytest.mark.parametrize(
    "status",
    ["pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused", "someday"],
)
async def test_recover_refuses_an_active_run_and_changes_nothing(
    fake: FakeAdmin, admin: RestateAdminClient, status: str
) -> None:
    """Any status but completed blocks recovery with active-invocation and sends no write."""
    fake.add_run(status)

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("active-invocation", [RUN_ID])
    assert status in caught.value.message
    assert fake.writes == []
    assert fake.state[(WF, KEY)] == 2


@pytest.mark.parametrize("status", ["killed", "cancelled"])
async def test_recover_treats_the_seeds_other_terminal_statuses_as_done(
    fake: FakeAdmin, admin: RestateAdminClient, status: str
) -> None:
    """`killed` and `cancelled` (named by the seed, not used by 1.7) are not active."""
    fake.add_run(status, "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/purge", reply(200))
    fake.fail("PATCH", f"/invocations/{RUN_ID}/kill", restate_error(409, "already completed"))

    response = await recover_stuck_workflow(admin, recover_request(), verify_timeout=0)

    assert response.purged == [RUN_ID]


async def test_recover_reports_a_run_that_was_still_running_when_killed(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """If the kill finds the run still running (200), it is listed as killed with a warning."""
    fake.add_run("completed", "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/kill", reply(200))

    response = await recover_stuck_workflow(admin, recover_request())

    assert (response.killed, response.purged) == ([RUN_ID], [RUN_ID])
    assert response.warnings == [f"{RUN_ID} was still running when it was killed."]


async def test_recover_refuses_a_succeeded_run_and_changes_nothing(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A run that completed successfully blocks recovery with already-succeeded."""
    fake.add_run("completed", "success")

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("already-succeeded", [RUN_ID])
    assert fake.writes == []


async def test_recover_active_wins_over_succeeded(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """With both an active and a succeeded run (pre-1.2 servers), the active one is reported."""
    fake.add_run("completed", "success", run_id="inv_old")
    fake.add_run("suspended", run_id="inv_new")

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("active-invocation", ["inv_new"])


async def test_recover_ignores_shared_handler_invocations(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """Only the main handler decides: a running `approve` call on the key does not block."""
    fake.add_run("completed", "failure")
    fake.add_run("running", run_id="inv_approve", handler="approve")

    response = await recover_stuck_workflow(admin, recover_request())

    assert response.purged == [RUN_ID]


async def test_recover_uses_the_main_handler_name_from_the_service(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A workflow whose main handler is not called `run` is queried by its real name."""
    fake.services = []
    fake.add_workflow(handler="start")
    fake.add_run("completed", "failure", handler="start")

    response = await recover_stuck_workflow(admin, recover_request())

    assert response.purged == [RUN_ID]


async def test_recover_with_no_run_clears_state_and_says_nothing_was_purged(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """An unknown key is acknowledged: state is cleared and the warnings say nothing was purged."""
    response = await recover_stuck_workflow(admin, recover_request("never_run_key"))

    assert (response.acknowledged, response.purged, response.killed) == (True, [], [])
    assert response.state_cleared is True
    assert any("nothing was killed or purged" in w for w in response.warnings)
    assert fake.writes == [f"POST /services/{WF}/state"]


async def test_recover_warns_about_promises_that_survive(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """Promises of a key without a run survive the state clear, and the response says so."""
    fake.promises[(WF, "stray")] = 1

    response = await recover_stuck_workflow(admin, recover_request("stray"))

    assert any("promise" in w and "#4909" in w for w in response.warnings)


async def test_recover_purges_every_failed_run(fake: FakeAdmin, admin: RestateAdminClient) -> None:
    """Several failed runs of one key (servers before 1.2) are all purged."""
    fake.add_run("completed", "failure", run_id="inv_a")
    fake.add_run("completed", "failure", run_id="inv_b")

    response = await recover_stuck_workflow(admin, recover_request())

    assert response.purged == ["inv_a", "inv_b"]


async def test_recover_tolerates_404_on_purge(fake: FakeAdmin, admin: RestateAdminClient) -> None:
    """A run purged by someone else in the meantime (404) counts as purged."""
    fake.add_run("completed", "failure")

    def purged_by_someone_else(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path == f"/invocations/{RUN_ID}/purge":
            fake.invocations.clear()
            return restate_error(404, f"The requested invocation '{RUN_ID}' does not exist")
        return None

    fake.overrides.append(purged_by_someone_else)

    response = await recover_stuck_workflow(admin, recover_request())

    assert (response.purged, response.warnings) == ([RUN_ID], [])
    assert f"POST /services/{WF}/state" in fake.writes


async def test_recover_aborts_when_purge_finds_the_run_active(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A 409 on purge means the run became active again: active-invocation, state untouched."""
    fake.add_run("completed", "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/purge", restate_error(409, "is not yet completed."))

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("active-invocation", [RUN_ID])
    assert f"POST /services/{WF}/state" not in fake.writes


async def test_recover_reports_purge_failed_on_a_500(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A non-transport purge failure is purge-failed and the state is not cleared."""
    fake.add_run("completed", "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/purge", restate_error(500, "partition unavailable"))

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("purge-failed", [RUN_ID])
    assert "partition unavailable" in caught.value.message
    assert fake.state[(WF, KEY)] == 2


async def test_recover_reports_purge_failed_when_kill_fails(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A kill answered with 503 stops before the purge, as purge-failed."""
    fake.add_run("completed", "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/kill", restate_error(503, "no leader"))

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert caught.value.reason == "purge-failed"
    assert fake.writes == [f"PATCH /invocations/{RUN_ID}/kill"]


async def test_recover_reports_query_failed_on_a_500(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A non-transport failure of the invocation query is query-failed, with no write sent."""
    fake.add_run("completed", "failure")
    fake.fail("POST", "/query", restate_error(500, "Datafusion error: Schema error"))

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert (caught.value.reason, caught.value.invocation_ids) == ("query-failed", [])
    assert "Datafusion error" in caught.value.message
    assert fake.writes == []


async def test_recover_reports_query_failed_on_a_malformed_row(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A query row without an id is an unexpected answer: query-failed, nothing changed."""
    fake.fail("POST", "/query", reply(200, {"rows": [{"status": "completed"}]}))

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert caught.value.reason == "query-failed"
    assert fake.writes == []


async def test_recover_transport_error_midway_is_admin_unreachable(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A connection failure on purge raises AdminUnreachable and the state is not cleared."""
    fake.add_run("completed", "failure")
    fake.fail("PATCH", f"/invocations/{RUN_ID}/purge", httpx2.ConnectError("connection refused"))

    with pytest.raises(AdminUnreachable):
        await recover_stuck_workflow(admin, recover_request())

    assert f"POST /services/{WF}/state" not in fake.writes


async def test_recover_transport_error_on_the_query_is_admin_unreachable(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A timeout on the invocation query is AdminUnreachable, not query-failed."""
    fake.fail("POST", "/query", httpx2.ReadTimeout("timed out"))

    with pytest.raises(AdminUnreachable):
        await recover_stuck_workflow(admin, recover_request())


async def test_recover_never_clears_state_under_a_run_submitted_meanwhile(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A run submitted between purge and state clear blocks the clear with active-invocation."""
    fake.add_run("completed", "failure")
    original = fake._patch_invocation

    def purge_then_resubmit(invocation_id: str, action: str) -> httpx2.Response:
        answer = original(invocation_id, action)
        if action == "purge":
            fake.add_run("running")  # same deterministic id, a brand-new run
        return answer

    fake._patch_invocation = purge_then_resubmit  # type: ignore[method-assign]

    with pytest.raises(WorkflowRetryBlocked) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert caught.value.reason == "active-invocation"
    assert "purged" in caught.value.message
    assert f"POST /services/{WF}/state" not in fake.writes


async def test_recover_verification_failure_is_a_warning(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """When the final check cannot run, the recovery is still acknowledged with a warning."""
    fake.add_run("completed", "failure")

    def fail_leftovers(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path == "/query" and b"AS state_rows" in request.content:
            return restate_error(503, "query engine unavailable")
        return None

    fake.overrides.append(fail_leftovers)

    response = await recover_stuck_workflow(admin, recover_request())

    assert response.purged == [RUN_ID]
    assert any("Could not verify" in w for w in response.warnings)


@pytest.mark.parametrize(
    ("service", "key", "field"),
    [
        (WF, "o'brien", "serviceKey"),
        (WF, "", "serviceKey"),
        (WF, "a b", "serviceKey"),
        (WF, "line\nbreak", "serviceKey"),
        ("Wf'; DROP", KEY, "serviceName"),
    ],
)
async def test_recover_bad_input_never_reaches_the_transport(
    fake: FakeAdmin, admin: RestateAdminClient, service: str, key: str, field: str
) -> None:
    """Identifiers outside ^[a-zA-Z0-9_-]+$ raise InvalidInput before any request."""
    # Built without validation, as a buggy caller could: the use case must check again.
    req = RecoverRequest.model_construct(service_name=service, service_key=key)

    with pytest.raises(InvalidInput) as caught:
        await recover_stuck_workflow(admin, req)

    assert (caught.value.field, caught.value.rule) == (field, "must match ^[a-zA-Z0-9_-]+$")
    assert fake.requests == []


async def test_recover_unknown_service_is_invalid_input(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A service Restate does not know is an InvalidInput naming serviceName; nothing is written."""
    with pytest.raises(InvalidInput) as caught:
        await recover_stuck_workflow(admin, recover_request(service="NoSuchWorkflow"))

    assert caught.value.field == "serviceName"
    assert "NoSuchWorkflow" in caught.value.rule
    assert fake.writes == []


async def test_recover_non_workflow_service_is_invalid_input(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A virtual object cannot be recovered as a workflow: InvalidInput naming serviceName."""
    fake.services.append(
        {"name": "Counter", "ty": "VirtualObject", "handlers": [{"name": "add", "ty": "Exclusive"}]}
    )

    with pytest.raises(InvalidInput) as caught:
        await recover_stuck_workflow(admin, recover_request(service="Counter"))

    assert caught.value.field == "serviceName"
    assert "VirtualObject" in caught.value.rule
    assert fake.writes == []


async def test_recover_service_lookup_failure_keeps_the_status(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A 503 on the service lookup surfaces as AdminRequestFailed with that status."""
    fake.fail("GET", f"/services/{WF}", restate_error(503, "not ready"))

    with pytest.raises(AdminRequestFailed) as caught:
        await recover_stuck_workflow(admin, recover_request())

    assert caught.value.status == 503


# --- force-redeploy -----------------------------------------------------------------------------


@pytest.mark.parametrize("force", [True, False])
async def test_force_redeploy_sends_force_explicitly(
    fake: FakeAdmin, admin: RestateAdminClient, force: bool
) -> None:
    """The registration body always carries `force`, and the response carries the new id."""
    req = ForceRedeployRequest(service_url="http://ddwf:9080/v1", force=force)

    response = await force_redeploy(admin, req)

    assert (response.acknowledged, response.deployment_id) == (True, "dp_new")
    assert json.loads(fake.requests[0].content) == {"uri": "http://ddwf:9080/v1", "force": force}


async def test_force_redeploy_keeps_restates_refusal(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A discovery failure is AdminRequestFailed with Restate's status and message."""
    fake.fail("POST", "/deployments", restate_error(500, "[META0003] Connection refused"))

    with pytest.raises(AdminRequestFailed) as caught:
        await force_redeploy(admin, ForceRedeployRequest(service_url="http://ddwf:9080"))

    assert (caught.value.status, caught.value.restate_message) == (
        500,
        "[META0003] Connection refused",
    )


@pytest.mark.parametrize("url", ["", "ddwf:9080", "ftp://ddwf:9080", "http://"])
async def test_force_redeploy_bad_url_never_reaches_the_transport(
    fake: FakeAdmin, admin: RestateAdminClient, url: str
) -> None:
    """A URL without http(s) scheme and host raises InvalidInput naming serviceUrl, unsent."""
    req = ForceRedeployRequest.model_construct(service_url=url, force=True)

    with pytest.raises(InvalidInput) as caught:
        await force_redeploy(admin, req)

    assert caught.value.field == "serviceUrl"
    assert fake.requests == []


# --- cleanup-stale-deployments ------------------------------------------------------------------

KEEP_URL = "http://ddwf:9080/"


def _stale_setup(fake: FakeAdmin) -> None:
    """dp_keep (kept), dp_drained, dp_draining (a pinned run), dp_latest (latest for a service)."""
    fake.services = []
    fake.add_workflow(deployment="dp_keep")
    fake.add_workflow(name="OtherWorkflow", deployment="dp_latest")
    fake.add_deployment("dp_drained", "http://old-a:9080/", "2026-05-09T09:00:00.000000000Z")
    fake.add_deployment("dp_draining", "http://old-b:9080/", "2026-05-09T09:10:00.000000000Z")
    fake.add_deployment("dp_latest", "http://other:9080/", "2026-05-09T09:20:00.000000000Z")
    fake.add_deployment("dp_keep", KEEP_URL, "2026-05-09T10:00:00.000000000Z")
    fake.add_run("suspended", run_id="inv_pinned", pinned="dp_draining")
    fake.add_run("completed", "success", run_id="inv_done", key="k2", pinned="dp_drained")


def _actions(items: list[CleanupItem]) -> dict[str, tuple[str, str | None]]:
    return {item.id: (item.action, item.reason) for item in items}


async def test_cleanup_deletes_only_drained_deployments(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """Without forceDrain, only the drained deployment is deleted; busy ones are skipped."""
    _stale_setup(fake)

    response = await cleanup_stale_deployments(admin, CleanupRequest(service_url=KEEP_URL))

    assert _actions(response.report) == {
        "dp_keep": ("kept", "matches-service-url"),
        "dp_drained": ("deleted", "drained"),
        "dp_draining": ("skipped", "draining"),
        "dp_latest": ("skipped", "latest-for-service"),
    }
    draining = next(item for item in response.report if item.id == "dp_draining")
    assert (draining.drain_state, draining.pinned_invocations) == ("draining", 1)
    latest = next(item for item in response.report if item.id == "dp_latest")
    assert latest.latest_for == ["OtherWorkflow"]
    assert [d["id"] for d in fake.deployments] == ["dp_draining", "dp_latest", "dp_keep"]
    assert all("?force=true" in str(r.url) for r in fake.requests if r.method == "DELETE")


async def test_cleanup_force_drain_deletes_every_other_deployment(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """With forceDrain, draining and latest-for-service deployments are deleted too."""
    _stale_setup(fake)

    req = CleanupRequest(service_url=KEEP_URL, force_drain=True)
    response = await cleanup_stale_deployments(admin, req)

    assert _actions(response.report) == {
        "dp_keep": ("kept", "matches-service-url"),
        "dp_drained": ("deleted", "drained"),
        "dp_draining": ("deleted", "force-drain"),
        "dp_latest": ("deleted", "force-drain"),
    }
    assert [d["id"] for d in fake.deployments] == ["dp_keep"]


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://ddwf:9080/", "http://ddwf:9080/"),
        ("http://ddwf:9080/", "http://ddwf:9080"),
        ("http://ddwf:9080/v1", "http://ddwf:9080/v1/"),
    ],
)
async def test_cleanup_matches_exactly_or_by_the_trailing_slash(
    fake: FakeAdmin, admin: RestateAdminClient, registered: str, requested: str
) -> None:
    """The kept deployment is the exact URL or the same URL differing by a trailing slash."""
    fake.add_deployment("dp_keep", registered, "2026-05-09T10:00:00Z")

    response = await cleanup_stale_deployments(admin, CleanupRequest(service_url=requested))

    assert _actions(response.report) == {"dp_keep": ("kept", "matches-service-url")}


@pytest.mark.parametrize(
    "requested",
    ["http://localhost:9080/", "https://ddwf:9080/", "http://ddwf:9080/v1", "http://ddwf:9081"],
)
async def test_cleanup_unknown_url_is_deployment_not_found(
    fake: FakeAdmin, admin: RestateAdminClient, requested: str
) -> None:
    """A URL that differs by more than a trailing slash matches nothing and deletes nothing."""
    fake.add_deployment("dp_keep", "http://ddwf:9080/", "2026-05-09T10:00:00Z")
    fake.add_deployment("dp_old", "http://old:9080/", "2026-05-09T09:00:00Z")

    with pytest.raises(DeploymentNotFound) as caught:
        await cleanup_stale_deployments(admin, CleanupRequest(service_url=requested))

    assert caught.value.code == "RESTATE_DEPLOYMENT_NOT_FOUND"
    assert fake.writes == []


async def test_cleanup_keeps_the_newest_of_duplicate_urls(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """Two deployments with the kept URL: the newest is kept, the other skipped, even forced."""
    fake.add_deployment("dp_older", KEEP_URL, "2026-05-09T09:00:00.000000000Z")
    fake.add_deployment("dp_newer", KEEP_URL, "2026-05-09T10:00:00.000000000Z")

    req = CleanupRequest(service_url=KEEP_URL, force_drain=True)
    response = await cleanup_stale_deployments(admin, req)

    assert _actions(response.report) == {
        "dp_newer": ("kept", "matches-service-url"),
        "dp_older": ("skipped", "duplicate-service-url"),
    }
    assert fake.writes == []


async def test_cleanup_delete_404_counts_as_deleted(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A deployment deleted by someone else meanwhile (404) is reported deleted, already gone."""
    _stale_setup(fake)
    fake.fail(
        "DELETE", "/deployments/dp_drained", restate_error(404, "not found in the schema registry")
    )

    response = await cleanup_stale_deployments(admin, CleanupRequest(service_url=KEEP_URL))

    assert _actions(response.report)["dp_drained"] == ("deleted", "already-gone")


@pytest.mark.parametrize(
    "failure",
    [restate_error(500, "metadata store unavailable"), httpx2.ConnectError("connection reset")],
    ids=["http-500", "transport"],
)
async def test_cleanup_one_failed_delete_does_not_fail_the_call(
    fake: FakeAdmin, admin: RestateAdminClient, failure: httpx2.Response | Exception
) -> None:
    """A failed delete marks its row failed with the error; the other deletes still happen."""
    _stale_setup(fake)
    fake.fail("DELETE", "/deployments/dp_drained", failure)

    req = CleanupRequest(service_url=KEEP_URL, force_drain=True)
    response = await cleanup_stale_deployments(admin, req)

    failed = next(item for item in response.report if item.id == "dp_drained")
    assert (failed.action, failed.reason) == ("failed", "delete-failed")
    assert failed.error
    assert [d["id"] for d in fake.deployments] == ["dp_drained", "dp_keep"]


async def test_cleanup_unreadable_usage_deletes_nothing_unforced(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """When the pinned-invocation query fails, no deployment can be proven drained: all skipped."""
    _stale_setup(fake)
    fake.fail("POST", "/query", restate_error(500, "Datafusion error"))

    response = await cleanup_stale_deployments(admin, CleanupRequest(service_url=KEEP_URL))

    skipped = [item for item in response.report if item.action == "skipped"]
    assert {item.reason for item in skipped} == {"usage-unknown"}
    assert len(skipped) == 3
    assert all(item.error and "Datafusion" in item.error for item in skipped)
    assert fake.writes == []


async def test_cleanup_list_failure_keeps_the_status(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A non-transport failure to list deployments raises AdminRequestFailed with its status."""
    fake.fail("GET", "/deployments", restate_error(503, "not ready"))

    with pytest.raises(AdminRequestFailed) as caught:
        await cleanup_stale_deployments(admin, CleanupRequest(service_url=KEEP_URL))

    assert caught.value.status == 503


async def test_cleanup_list_transport_failure_is_admin_unreachable(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A connection failure while listing deployments raises AdminUnreachable."""
    fake.fail("GET", "/deployments", httpx2.ConnectError("connection refused"))

    with pytest.raises(AdminUnreachable):
        await cleanup_stale_deployments(admin, CleanupRequest(service_url=KEEP_URL))


async def test_cleanup_bad_url_never_reaches_the_transport(
    fake: FakeAdmin, admin: RestateAdminClient
) -> None:
    """A URL without a scheme raises InvalidInput naming serviceUrl before any request."""
    req = CleanupRequest.model_construct(service_url="ddwf:9080", force_drain=False)

    with pytest.raises(InvalidInput) as caught:
        await cleanup_stale_deployments(admin, req)

    assert caught.value.field == "serviceUrl"
    assert fake.requests == []


def test_route_bodies_reject_bad_input_with_field_and_rule() -> None:
    """The seed's request bodies name the broken field and its rule."""
    with pytest.raises(InvalidInput) as caught:
        parse_request(RecoverRequest, {"serviceName": WF, "serviceKey": "o'brien"})
    assert (caught.value.field, caught.value.rule) == ("serviceKey", "must match ^[a-zA-Z0-9_-]+$")
