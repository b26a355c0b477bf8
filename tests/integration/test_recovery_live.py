"""The three write routes against a real restate-server 1.7.12 and the sample workflow service.

Recovery tests use the session server with their own workflow keys; tests that register or delete
deployments, or stop the admin API, get an isolated server from `fresh_restate`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from bot.devstack import RestateServer, WorkflowIngress, WorkflowService
from bot.devstack.waiting import discarded_afterwards, invocation_row, wait_for_status
from bot.devstack.workflows import SERVICE_NAMES
from core.errors import AdminUnreachable, DeploymentNotFound, InvalidInput, WorkflowRetryBlocked
from core.models import (
    CleanupItem,
    CleanupRequest,
    ForceRedeployRequest,
    RecoverRequest,
    parse_request,
    to_json_dict,
)
from core.plans.cleanup import cleanup_stale_deployments
from core.plans.recover import recover_stuck_workflow
from core.plans.redeploy import force_redeploy
from core.restate.client import RestateAdminClient
from core.restate.sql import literal
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
)

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
INVITATION = "InvitationWorkflow"
PAUSING = "PausingWorkflow"
ACTIVE = ("running", "suspended")


# --- helpers (not in conftest) ----------------------------------------------------------------


async def state_keys(admin: RestateAdminClient, service: str, key: str) -> list[str]:
    """Names of the K/V state entries ``(service, key)`` holds right now."""
    rows = await admin.query(
        f"SELECT key FROM state WHERE service_name = {literal(service)} "  # noqa: S608 - literal()
        f"AND service_key = {literal(key)}"
    )
    return sorted(str(row["key"]) for row in rows)


async def state_eventually(
    admin: RestateAdminClient, service: str, key: str, expected: list[str], within_s: float = 10.0
) -> None:
    """Poll until ``(service, key)`` holds exactly the state entries ``expected``."""
    deadline = time.monotonic() + within_s
    while (keys := await state_keys(admin, service, key)) != expected:
        assert time.monotonic() < deadline, f"state of {key} is still {keys}, not {expected}"
        await asyncio.sleep(0.05)


async def deployment_ids_eventually(
    admin: RestateAdminClient, expected: set[str], within_s: float = 10.0
) -> set[str]:
    """Poll the deployment list until it holds exactly ``expected``; return the last list seen."""
    deadline = time.monotonic() + within_s
    while True:
        ids = {d.id for d in await admin.list_deployments()}
        if ids == expected or time.monotonic() >= deadline:
            return ids
        await asyncio.sleep(0.05)


async def wait_until_pinned(
    admin: RestateAdminClient, service: str, key: str, within_s: float = 20.0
) -> dict[str, Any]:
    """Poll until the key's run is active *and* pinned: a run can show `running` before Restate
    records its deployment, and only the pin makes a deployment draining."""
    deadline = time.monotonic() + within_s
    while True:
        row = await invocation_row(admin, service, key)
        if row is not None and row.get("status") in ACTIVE and row.get("pinned_deployment_id"):
            return row
        assert time.monotonic() < deadline, f"{service}/{key} not pinned in time; last row {row}"
        await asyncio.sleep(0.05)


class RecordingTransport(httpx2.AsyncBaseTransport):
    """A real transport that remembers every request it was asked to send."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# A sample service at a chosen port serving only IdentityRecoveryWorkflow: re-registering the
# full sample service at the same URL afterwards is a registration with *changed* services.
_SUBSET_APP = """
import asyncio, signal, sys
import restate
from hypercorn.asyncio import serve
from hypercorn.config import Config
from restate.server import install_shutdown_hook
from bot.devstack.workflows import identity_recovery_workflow

async def main():
    config = Config()
    config.bind = [f"127.0.0.1:{sys.argv[1]}"]
    stop = asyncio.Event()
    install_shutdown_hook(asyncio.get_running_loop(), stop.set, signal.SIGTERM)
    app = restate.app(services=[identity_recovery_workflow], protocol="bidi")
    await serve(app, config, shutdown_trigger=stop.wait)

asyncio.run(main())
"""


class SubsetWorkflowService(WorkflowService):
    """The sample service on a given port, serving only IdentityRecoveryWorkflow."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def _argv(self) -> list[str]:
        return [sys.executable, "-c", _SUBSET_APP, str(self.port)]


WriteCall = Callable[[], Awaitable[object]]


def write_calls(
    admin: RestateAdminClient, *, url: str = "http://127.0.0.1:9/", key: str = "k"
) -> dict[str, WriteCall]:
    """One call per write route, its request built without validation as a buggy caller could."""
    return {
        "force-redeploy": lambda: force_redeploy(
            admin, ForceRedeployRequest.model_construct(service_url=url, force=True)
        ),
        "cleanup-stale-deployments": lambda: cleanup_stale_deployments(
            admin, CleanupRequest.model_construct(service_url=url, force_drain=False)
        ),
        "recover-stuck-workflow": lambda: recover_stuck_workflow(
            admin, RecoverRequest.model_construct(service_name=RECOVERY, service_key=key)
        ),
    }


def by_id(report: list[CleanupItem]) -> dict[str, CleanupItem]:
    return {item.id: item for item in report}


# --- recover-stuck-workflow ---------------------------------------------------------------------


async def test_recover_terminal_failed_run_reruns_from_blank_state(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A terminal-failed key is purged and cleared; the next `succeed` run sees no prior step."""
    async with discarded_afterwards(restate_admin, RECOVERY, workflow_key):
        failed = await ingress.submit(RECOVERY, workflow_key, {"mode": "fail"})
        await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")
        blocked = await ingress.submit(RECOVERY, workflow_key, {"mode": "succeed"})
        assert blocked.previously_accepted
        assert await state_keys(restate_admin, RECOVERY, workflow_key) == ["step"]

        response = await recover_stuck_workflow(
            restate_admin, RecoverRequest(service_name=RECOVERY, service_key=workflow_key)
        )

        assert response.purged == [failed.invocation_id]
        assert (response.killed, response.state_cleared, response.warnings) == ([], True, [])
        assert await state_keys(restate_admin, RECOVERY, workflow_key) == []
        rerun = await ingress.submit(RECOVERY, workflow_key, {"mode": "succeed"})
        assert rerun.status == "Accepted"
        assert (await ingress.attach(RECOVERY, workflow_key)).body == {"priorStep": None}


async def test_recover_killed_run_reruns_from_blank_state(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A run killed through the admin API is recoverable like a terminal failure."""
    async with discarded_afterwards(restate_admin, INVITATION, workflow_key):
        hanging = await ingress.submit(INVITATION, workflow_key, {"mode": "hang"})
        await wait_for_status(restate_admin, INVITATION, workflow_key, ACTIVE)
        await restate_admin.kill_invocation(hanging.invocation_id)
        row = await wait_for_status(restate_admin, INVITATION, workflow_key, "completed")
        assert row["completion_failure"] == "[409] killed"

        response = await recover_stuck_workflow(
            restate_admin, RecoverRequest(service_name=INVITATION, service_key=workflow_key)
        )

        assert (response.purged, response.warnings) == ([hanging.invocation_id], [])
        await ingress.submit(INVITATION, workflow_key, {"mode": "succeed"})
        assert (await ingress.attach(INVITATION, workflow_key)).body == {"priorStep": None}


async def test_recover_refuses_a_hanging_run_and_leaves_its_state(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A run awaiting its promise blocks recovery with its id; its state and status stay as is."""
    async with discarded_afterwards(restate_admin, RECOVERY, workflow_key):
        hanging = await ingress.submit(RECOVERY, workflow_key, {"mode": "hang"})
        # Suspended: the run has written its state and awaits its promise (while it is still
        # `running` its state may not be there yet, and the check below would race it).
        before = await wait_for_status(restate_admin, RECOVERY, workflow_key, "suspended")
        # Restate's state table can lag the journal a little under load: see the state first, so
        # the assertion below is about recovery leaving it alone, not about that lag.
        await state_eventually(restate_admin, RECOVERY, workflow_key, ["step"])

        with pytest.raises(WorkflowRetryBlocked) as caught:
            await recover_stuck_workflow(
                restate_admin, RecoverRequest(service_name=RECOVERY, service_key=workflow_key)
            )

        assert caught.value.reason == "active-invocation"
        assert caught.value.invocation_ids == [hanging.invocation_id]
        assert caught.value.to_body()["code"] == "RESTATE_WORKFLOW_RETRY_BLOCKED"
        assert await state_keys(restate_admin, RECOVERY, workflow_key) == ["step"]
        after = await invocation_row(restate_admin, RECOVERY, workflow_key)
        assert after is not None
        assert after["status"] in ACTIVE
        assert after["created_at"] == before["created_at"]


@pytest.mark.parametrize(
    ("service", "payload", "status"),
    [(RECOVERY, {"mode": "flaky"}, "backing-off"), (PAUSING, {}, "paused")],
    ids=["backing-off", "paused"],
)
async def test_recover_refuses_a_stuck_run(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
    service: str,
    payload: dict[str, Any],
    status: str,
) -> None:
    """Backing-off and paused runs are active too: recovery is refused and the run untouched."""
    async with discarded_afterwards(restate_admin, service, workflow_key):
        stuck = await ingress.submit(service, workflow_key, payload)
        await wait_for_status(restate_admin, service, workflow_key, status)

        with pytest.raises(WorkflowRetryBlocked) as caught:
            await recover_stuck_workflow(
                restate_admin, RecoverRequest(service_name=service, service_key=workflow_key)
            )

        assert (caught.value.reason, caught.value.invocation_ids) == (
            "active-invocation",
            [stuck.invocation_id],
        )
        assert status in caught.value.message
        row = await invocation_row(restate_admin, service, workflow_key)
        assert row is not None
        assert row["status"] == status


async def test_recover_refuses_a_succeeded_run(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A key whose run succeeded is refused as already-succeeded, and its output is kept."""
    async with discarded_afterwards(restate_admin, RECOVERY, workflow_key):
        done = await ingress.submit(RECOVERY, workflow_key, {"mode": "succeed"})
        await wait_for_status(restate_admin, RECOVERY, workflow_key, "completed")

        with pytest.raises(WorkflowRetryBlocked) as caught:
            await recover_stuck_workflow(
                restate_admin, RecoverRequest(service_name=RECOVERY, service_key=workflow_key)
            )

        assert (caught.value.reason, caught.value.invocation_ids) == (
            "already-succeeded",
            [done.invocation_id],
        )
        assert (await ingress.output(RECOVERY, workflow_key)).succeeded
        assert await state_keys(restate_admin, RECOVERY, workflow_key) == ["step"]


async def test_recover_unknown_key_is_acknowledged(
    workflow_service: RegisteredWorkflowService, restate_admin: RestateAdminClient
) -> None:
    """The seed's example body for a key that never ran answers {"acknowledged": true}."""
    body = {
        "serviceName": "InvitationWorkflow",
        "serviceKey": "invitation_01j8m7k2q3r4s5t6u7v8w9x0y1_1770000000000",
    }

    response = await recover_stuck_workflow(restate_admin, parse_request(RecoverRequest, body))

    assert to_json_dict(response)["acknowledged"] is True
    assert response.purged == []
    assert response.warnings == [
        "No run of InvitationWorkflow/invitation_01j8m7k2q3r4s5t6u7v8w9x0y1_1770000000000 was "
        "found: nothing was killed or purged."
    ]


async def test_recover_warns_about_a_stray_promise(
    workflow_service: RegisteredWorkflowService,
    restate_admin: RestateAdminClient,
    ingress: WorkflowIngress,
    workflow_key: str,
) -> None:
    """A promise resolved on a never-run key survives recovery, and a warning says so."""
    await ingress.approve(RECOVERY, workflow_key, "pre-approved")

    response = await recover_stuck_workflow(
        restate_admin, RecoverRequest(service_name=RECOVERY, service_key=workflow_key)
    )

    assert any("1 promise(s)" in warning for warning in response.warnings)


async def test_recover_unknown_service_names_the_field(
    workflow_service: RegisteredWorkflowService, restate_admin: RestateAdminClient
) -> None:
    """A service Restate does not know is InvalidInput on serviceName (Restate answered 404)."""
    with pytest.raises(InvalidInput) as caught:
        await recover_stuck_workflow(
            restate_admin, RecoverRequest(service_name="NoSuchWorkflow", service_key="k")
        )

    assert caught.value.field == "serviceName"
    assert "NoSuchWorkflow" in caught.value.rule


# --- bad input ------------------------------------------------------------------------------

KEY_RULE = "must match ^[a-zA-Z0-9_-]+$"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"serviceName": RECOVERY, "serviceKey": "o'brien"}, "serviceKey", KEY_RULE),
        ({"serviceUrl": ""}, "serviceUrl", "must be a non-empty URL"),
        (
            {"serviceUrl": "127.0.0.1:9080"},
            "serviceUrl",
            "must be an absolute http:// or https:// URL",
        ),
    ],
    ids=["key-with-quote", "empty-url", "url-without-scheme"],
)
async def test_bad_input_is_refused_before_any_request(
    restate_stack: RestateStack, body: dict[str, str], field: str, rule: str
) -> None:
    """Bad identifiers and URLs are InvalidInput naming field and rule; nothing reaches Restate."""
    model = RecoverRequest if "serviceKey" in body else ForceRedeployRequest
    with pytest.raises(InvalidInput) as parsed:
        parse_request(model, body)
    assert (parsed.value.field, parsed.value.rule) == (field, rule)

    transport = RecordingTransport()
    async with RestateAdminClient(restate_stack.admin_url, transport=transport) as admin:
        if "serviceKey" in body:
            calls = [write_calls(admin, key=body["serviceKey"])["recover-stuck-workflow"]]
        else:
            routes = write_calls(admin, url=body["serviceUrl"])
            calls = [routes["force-redeploy"], routes["cleanup-stale-deployments"]]
        for call in calls:
            with pytest.raises(InvalidInput) as caught:
                await call()
            assert (caught.value.field, caught.value.rule) == (field, rule)
    assert transport.requests == []


# --- force-redeploy -----------------------------------------------------------------------------


async def test_force_redeploy_registers_and_reregisters(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """force-redeploy returns the deployment id; a second forced call overwrites it in place."""
    server = await fresh_restate()
    service = await start_workflow_service()
    async with RestateAdminClient(server.admin_url) as admin:
        first = await force_redeploy(admin, ForceRedeployRequest(service_url=service.url))
        revision = (await admin.get_service(RECOVERY)).revision

        second = await force_redeploy(admin, ForceRedeployRequest(service_url=service.url))

        assert first.acknowledged is True
        assert second.deployment_id == first.deployment_id
        assert [d.id for d in await admin.list_deployments()] == [first.deployment_id]
        described = await admin.get_service(RECOVERY)
        assert described.deployment_id == first.deployment_id
        # Observed on 1.7.12: a forced re-registration bumps the revision even when unchanged.
        assert revision is not None
        assert described.revision == revision + 1


async def test_force_false_on_a_changed_deployment_is_a_silent_no_op(
    fresh_restate: StartRestate,
) -> None:
    """With force=false Restate keeps the old services of a changed deployment; force=true adds."""
    server = await fresh_restate()
    full = WorkflowService()
    subset = SubsetWorkflowService(full.port)
    async with RestateAdminClient(server.admin_url) as admin:
        try:
            await subset.start()
            registered = await force_redeploy(admin, ForceRedeployRequest(service_url=subset.url))
            await subset.stop()
            await full.start()

            unforced = await force_redeploy(
                admin, ForceRedeployRequest(service_url=full.url, force=False)
            )
            unforced_services = {s.name for s in await admin.list_services()}
            forced = await force_redeploy(admin, ForceRedeployRequest(service_url=full.url))
            forced_services = {s.name for s in await admin.list_services()}
        finally:
            await subset.aclose()
            await full.aclose()

    assert unforced.deployment_id == registered.deployment_id
    assert unforced_services == {RECOVERY}
    assert forced.deployment_id == registered.deployment_id
    assert forced_services == set(SERVICE_NAMES)


# --- cleanup-stale-deployments ------------------------------------------------------------------


@dataclass(frozen=True)
class StaleFleet:
    """Four deployments of the sample service on one isolated server (see `stale_fleet`)."""

    server: RestateServer
    keep: WorkflowService
    ids: dict[str, str]  # role -> deployment id
    pinned_runs: dict[str, str]  # role -> invocation id of the hanging run pinned to it


async def stale_fleet(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> StaleFleet:
    """`draining` and `dead` each pin a hanging run, `drained` pins nothing, `keep` is latest.

    A run pins to the deployment that is latest when it starts, so each hanging run starts right
    after its deployment is registered; `dead`'s process is stopped at the end.
    """
    server = await fresh_restate()
    ids: dict[str, str] = {}
    runs: dict[str, str] = {}
    services: dict[str, WorkflowService] = {}
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        for role in ("draining", "dead", "drained", "keep"):
            services[role] = await start_workflow_service()
            registered = await admin.register_deployment(services[role].url, force=True)
            ids[role] = registered.id
            if role in ("draining", "dead"):
                runs[role] = (await ingress.submit(RECOVERY, role, {"mode": "hang"})).invocation_id
                row = await wait_until_pinned(admin, RECOVERY, role)
                assert row["pinned_deployment_id"] == ids[role]
    await services["dead"].stop()
    return StaleFleet(server, services["keep"], ids, runs)


async def test_cleanup_deletes_only_the_drained_deployment(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """Without forceDrain only the drained deployment goes; draining and dead ones are skipped."""
    fleet = await stale_fleet(fresh_restate, start_workflow_service)
    async with RestateAdminClient(fleet.server.admin_url) as admin:
        # The URL as an operator might type it: Restate lists it with a trailing slash.
        req = CleanupRequest(service_url=fleet.keep.url.removesuffix("/"))

        response = await cleanup_stale_deployments(admin, req)

        report = by_id(response.report)
        assert (report[fleet.ids["keep"]].action, report[fleet.ids["keep"]].drain_state) == (
            "kept",
            "active",
        )
        assert (report[fleet.ids["drained"]].action, report[fleet.ids["drained"]].reason) == (
            "deleted",
            "drained",
        )
        for role in ("draining", "dead"):
            item = report[fleet.ids[role]]
            assert (item.action, item.reason, item.pinned_invocations) == ("skipped", "draining", 1)
        remaining = {fleet.ids[role] for role in ("keep", "draining", "dead")}
        assert await deployment_ids_eventually(admin, remaining) == remaining


async def test_cleanup_force_drain_deletes_draining_and_dead_deployments(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """With forceDrain every deployment but the kept one is deleted, pinned runs or not."""
    fleet = await stale_fleet(fresh_restate, start_workflow_service)
    async with RestateAdminClient(fleet.server.admin_url) as admin:
        req = CleanupRequest(service_url=fleet.keep.url, force_drain=True)

        response = await cleanup_stale_deployments(admin, req)

        actions = {item.id: (item.action, item.reason) for item in response.report}
        assert actions == {
            fleet.ids["keep"]: ("kept", "matches-service-url"),
            fleet.ids["drained"]: ("deleted", "drained"),
            fleet.ids["draining"]: ("deleted", "force-drain"),
            fleet.ids["dead"]: ("deleted", "force-drain"),
        }
        keep = {fleet.ids["keep"]}
        assert await deployment_ids_eventually(admin, keep) == keep


async def test_cleanup_unknown_url_is_deployment_not_found(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """A URL no deployment has (here `localhost` for `127.0.0.1`) deletes nothing."""
    server = await fresh_restate()
    old, keep = await start_workflow_service(), await start_workflow_service()
    async with RestateAdminClient(server.admin_url) as admin:
        ids = {(await admin.register_deployment(s.url, force=True)).id for s in (old, keep)}
        other_spelling = keep.url.replace("127.0.0.1", "localhost")

        with pytest.raises(DeploymentNotFound) as caught:
            await cleanup_stale_deployments(admin, CleanupRequest(service_url=other_spelling))

        assert caught.value.to_body()["code"] == "RESTATE_DEPLOYMENT_NOT_FOUND"
        assert {d.id for d in await admin.list_deployments()} == ids


# --- admin API down -----------------------------------------------------------------------------


async def test_every_write_route_reports_an_unreachable_admin(fresh_restate: StartRestate) -> None:
    """With the admin API stopped, each write route raises RESTATE_ADMIN_UNREACHABLE."""
    server = await fresh_restate()
    await server.stop()
    async with RestateAdminClient(server.admin_url, timeout=2.0) as admin:
        for route, call in write_calls(admin).items():
            with pytest.raises(AdminUnreachable) as caught:
                await call()
            assert caught.value.code == "RESTATE_ADMIN_UNREACHABLE", route
