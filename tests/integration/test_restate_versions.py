"""What differs between the Restate versions restate-ops supports (1.6.2, 1.7.4, 1.7.12), stated
against whichever server the suite runs on (`RESTATE_VERSION=1.6.2 make test`).

Each test pins one behaviour the product depends on and says which versions show it, so a new
server release that changes it fails here first, with the reason in the test's name:

* admin API versions: 1.6 serves V2-V3, 1.7 serves V2-V4; V1 is refused by both, unprefixed
  paths (the only ones restate-ops uses) work on every version;
* registration ``force``: omitted, it means false on unprefixed paths and true on ``/v2`` (1.6+),
  which is why restate-ops always sends it;
* the default retry policy pauses after its attempts (1.5+), so ``paused`` counts as stuck;
* completed invocations keep ``pinned_deployment_id`` (1.5+), so the drain count must skip them;
* every SQL column restate-ops reads exists (1.7 added columns and tables; none is read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.devstack import WorkflowIngress
from bot.devstack.binaries import restate_version
from bot.devstack.waiting import wait_for_status
from core.restate.client import RestateAdminClient
from core.restate.queries import STUCK_STATUSES, pinned_active_counts
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
)

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
SUPPORTED = {(1, 6), (1, 7)}
#: min and max admin API version by server release.
ADMIN_API_VERSIONS = {(1, 6): (2, 3), (1, 7): (2, 4)}
#: (table, column) restate-ops reads in core/restate/queries.py.
COLUMNS_READ = {
    ("sys_deployment", "id"),
    ("sys_invocation", "id"),
    ("sys_invocation", "status"),
    ("sys_invocation", "target_service_name"),
    ("sys_invocation", "target_service_key"),
    ("sys_invocation", "target_handler_name"),
    ("sys_invocation", "completion_result"),
    ("sys_invocation", "completion_failure"),
    ("sys_invocation", "created_at"),
    ("sys_invocation", "modified_at"),
    ("sys_invocation", "completed_at"),
    ("sys_invocation", "retry_count"),
    ("sys_invocation", "last_failure"),
    ("sys_invocation", "last_failure_error_code"),
    ("sys_invocation", "pinned_deployment_id"),
    ("sys_invocation_status", "pinned_deployment_id"),
    ("sys_invocation_status", "status"),
    ("sys_journal_events", "id"),
    ("sys_journal_events", "event_type"),
    ("sys_journal_events", "event_json"),
    ("sys_journal_events", "appended_at"),
    ("state", "service_name"),
    ("state", "service_key"),
    ("sys_promise", "service_name"),
    ("sys_promise", "service_key"),
}


@pytest.fixture
async def raw_admin(restate_stack: RestateStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=restate_stack.admin_url, trust_env=False) as client:
        yield client


async def test_the_server_is_the_selected_supported_version(
    restate_admin: RestateAdminClient,
) -> None:
    """The suite runs on the version `RESTATE_VERSION` selects, and restate-ops supports it."""
    info = await restate_admin.version()
    assert info.version == restate_version()
    assert info.release in SUPPORTED


async def test_admin_api_versions_and_path_prefixes(
    restate_admin: RestateAdminClient, raw_admin: httpx.AsyncClient
) -> None:
    """1.6 serves admin API V2-V3 and 1.7 V2-V4; /v1 is refused; unprefixed paths always work."""
    info = await restate_admin.version()
    assert (info.min_admin_api_version, info.max_admin_api_version) == ADMIN_API_VERSIONS[
        info.release
    ]
    newest = info.max_admin_api_version
    v1 = await raw_admin.get("/v1/deployments")
    assert (v1.status_code, "Unsupported Admin API version V1" in v1.text) == (400, True)
    assert (await raw_admin.get(f"/v{newest}/deployments")).status_code == 200
    assert (await raw_admin.get(f"/v{newest + 1}/deployments")).status_code == 404
    assert (await raw_admin.get("/deployments")).status_code == 200


async def test_omitted_force_is_false_unprefixed_and_true_on_v2(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """Re-registering without `force`: unprefixed is a no-op (200), /v2 overwrites (201)."""
    server, service = await fresh_restate(), await start_workflow_service()
    async with httpx.AsyncClient(base_url=server.admin_url, trust_env=False, timeout=30) as admin:
        first = await admin.post("/deployments", json={"uri": service.url})
        unprefixed = await admin.post("/deployments", json={"uri": service.url})
        on_v2 = await admin.post("/v2/deployments", json={"uri": service.url})
    assert [first.status_code, unprefixed.status_code, on_v2.status_code] == [201, 200, 201]
    assert first.json()["id"] == unprefixed.json()["id"] == on_v2.json()["id"]


async def test_default_retry_policy_pauses_so_paused_counts_as_stuck(
    workflow_service: RegisteredWorkflowService, raw_admin: httpx.AsyncClient
) -> None:
    """A service without its own policy pauses after its attempts; doctor lists paused as stuck."""
    described = (await raw_admin.get(f"/services/{RECOVERY}")).json()
    assert described["retry_policy"]["on_max_attempts"] == "Pause"
    assert "paused" in STUCK_STATUSES


async def test_completed_runs_keep_their_pin_but_do_not_hold_a_deployment(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> None:
    """A completed run still names its deployment (1.5+); the drain count does not count it."""
    server, service = await fresh_restate(), await start_workflow_service()
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        deployment = await admin.register_deployment(service.url, force=True)
        await ingress.submit(RECOVERY, "pinned-then-done", {"mode": "succeed"})
        row = await wait_for_status(admin, RECOVERY, "pinned-then-done", "completed")
        pinned = await pinned_active_counts(admin)
    assert row.get("pinned_deployment_id") == deployment.id
    assert pinned[deployment.id] == 0


async def test_every_column_restate_ops_reads_exists(restate_admin: RestateAdminClient) -> None:
    """The SQL columns restate-ops reads exist on this version (1.7's additions are not read)."""
    tables = ", ".join(f"'{table}'" for table in sorted({table for table, _ in COLUMNS_READ}))
    rows = await restate_admin.query(
        "SELECT table_name, column_name FROM information_schema.columns "  # noqa: S608 - constants
        f"WHERE table_name IN ({tables})"
    )
    present = {(row["table_name"], row["column_name"]) for row in rows}
    assert sorted(COLUMNS_READ - present) == []
