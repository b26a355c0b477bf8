"""The two-person rule for cleanup with forceDrain: held, refused to its requester, run once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import load_settings
from core.approvals import Approvals
from core.audit import Actor
from core.authz import NO_ROLE, OPERATOR
from core.environments import DEFAULT_ENVIRONMENT, Environment, Environments, EnvironmentSpec
from core.errors import (
    ApprovalRequired,
    InvalidInput,
    PendingActionUnavailable,
    PermissionRequired,
    SelfApprovalRefused,
)
from core.models import CleanupRequest, ForceRedeployRequest, Route, to_json_dict
from core.operations import Attempt, Operations
from core.restate.client import RestateAdminClient
from core.two_person import ApprovalGate, TwoPersonRule
from tests.fakes import FakeAuditLog, FakeHeldWrites
from tests.unit.test_triage import clean_settings_environment
from tests.unit.write_fakes import FakeAdmin

NOW = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
KEEP_URL = "http://ddwf:9080/"
FORCED = {"serviceUrl": KEEP_URL, "forceDrain": True}
ROUTE: Route = "cleanup-stale-deployments"


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def fake() -> FakeAdmin:
    """dp_keep (kept), dp_busy (a pinned suspended run): forceDrain deletes dp_busy."""
    admin = FakeAdmin()
    admin.add_workflow(deployment="dp_keep")
    admin.add_deployment("dp_busy", "http://old:9080/", "2026-05-09T09:00:00.000000000Z")
    admin.add_deployment("dp_keep", KEEP_URL, "2026-05-09T10:00:00.000000000Z")
    admin.add_run("suspended", run_id="inv_pinned", pinned="dp_busy")
    return admin


@pytest.fixture
async def admin(fake: FakeAdmin) -> AsyncIterator[RestateAdminClient]:
    async with fake.client() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> FakeHeldWrites:
    return FakeHeldWrites(clock, ttl=timedelta(minutes=15))


@pytest.fixture
def audit() -> FakeAuditLog:
    return FakeAuditLog()


@pytest.fixture
def ops(
    admin: RestateAdminClient, audit: FakeAuditLog, store: FakeHeldWrites, clock: Clock
) -> Operations:
    gate = ApprovalGate(TwoPersonRule(force_drain=True), store)
    return Operations(admin=admin, ingress=None, audit=audit, now=clock, approvals=gate)


def by(user: str, role: str = OPERATOR) -> Attempt:
    return Attempt(actor=Actor(id=user, surface="http", role=role), request_id=f"req_{user}")


@pytest.fixture
def envs(ops: Operations, admin: RestateAdminClient) -> Environments:
    """One environment, the default, whose operations are ``ops``."""
    spec = EnvironmentSpec(name=DEFAULT_ENVIRONMENT, admin_url="http://admin.test")
    env = Environment(spec=spec, admin=admin, ingress=None, operations=ops)
    return Environments([env], DEFAULT_ENVIRONMENT)


def deployment_ids(fake: FakeAdmin) -> list[str]:
    return [d["id"] for d in fake.deployments]


@pytest.mark.parametrize(
    ("rule", "route", "request_", "applies"),
    [
        (True, ROUTE, CleanupRequest(service_url=KEEP_URL, force_drain=True), True),
        (True, ROUTE, CleanupRequest(service_url=KEEP_URL, force_drain=False), False),
        (False, ROUTE, CleanupRequest(service_url=KEEP_URL, force_drain=True), False),
        (True, "force-redeploy", ForceRedeployRequest(service_url=KEEP_URL), False),
    ],
)
def test_the_rule_covers_cleanup_with_force_drain_only(
    rule: bool, route: str, request_: object, applies: bool
) -> None:
    """Only a cleanup asking for forceDrain, with the setting on, needs a second operator."""
    assert TwoPersonRule(force_drain=rule).applies(route, request_) is applies


async def test_force_drain_is_held_with_an_approval_id_and_changes_nothing(
    ops: Operations, fake: FakeAdmin, audit: FakeAuditLog, store: FakeHeldWrites
) -> None:
    """The requester's cleanup is stored for approval, audited as blocked; nothing is deleted."""
    with pytest.raises(ApprovalRequired) as caught:
        await ops.execute(by("alice"), ROUTE, FORCED)

    data = caught.value.data
    assert (data["requestedBy"], data["expiresAt"]) == ("alice", "2026-05-09T10:15:00.000Z")
    assert "dp_busy" in data["preview"]
    assert caught.value.request_id == "req_alice"
    assert list(store.held) == [data["approvalId"]]
    assert fake.writes == []
    assert deployment_ids(fake) == ["dp_busy", "dp_keep"]
    assert audit.outcomes() == [(ROUTE, "blocked")]
    assert audit.finishes[0].error_code == "APPROVAL_REQUIRED"


async def test_without_force_drain_the_cleanup_runs_at_once(
    ops: Operations, fake: FakeAdmin, store: FakeHeldWrites
) -> None:
    """forceDrain false keeps today's flow: it runs, skipping the busy deployment."""
    result = await ops.execute(by("alice"), ROUTE, {"serviceUrl": KEEP_URL})

    actions = {item["id"]: item["action"] for item in to_json_dict(result.response)["report"]}
    assert actions == {"dp_keep": "kept", "dp_busy": "skipped"}
    assert store.held == {}


async def test_the_preview_says_a_second_operator_must_approve(ops: Operations) -> None:
    """Surfaces learn from the core's preview that this write needs an approval."""
    forced = await ops.preview(by("alice"), ROUTE, FORCED)
    plain = await ops.preview(by("alice"), ROUTE, {"serviceUrl": KEEP_URL})

    assert (forced.needs_approval, plain.needs_approval) == (True, False)


async def test_requester_is_refused_and_a_second_operator_runs_it(
    ops: Operations, envs: Environments, fake: FakeAdmin, audit: FakeAuditLog, store: FakeHeldWrites
) -> None:
    """alice cannot approve her own cleanup (denied, still held); bob's approval runs it once."""
    approvals = Approvals(envs, store)
    with pytest.raises(ApprovalRequired) as held:
        await ops.execute(by("alice"), ROUTE, FORCED)
    approval_id = held.value.data["approvalId"]

    with pytest.raises(SelfApprovalRefused) as refused:
        await approvals.approve(by("alice"), approval_id)
    assert deployment_ids(fake) == ["dp_busy", "dp_keep"]
    result = await approvals.approve(by("bob"), approval_id)
    with pytest.raises(PendingActionUnavailable):
        await approvals.approve(by("carol"), approval_id)

    assert refused.value.code == "SELF_APPROVAL_REFUSED"
    assert deployment_ids(fake) == ["dp_keep"]
    actions = {item["id"]: item["action"] for item in to_json_dict(result.response)["report"]}
    assert actions == {"dp_keep": "kept", "dp_busy": "deleted"}
    assert audit.outcomes() == [
        (ROUTE, "blocked"),
        (ROUTE, "denied"),
        (ROUTE, "succeeded"),
        ("approve", "failed"),
    ]
    ran = audit.starts[2]
    assert (ran.actor.id, ran.args) == ("bob", FORCED)
    assert {k: ran.context[k] for k in ("requestedBy", "approvedBy", "approvalId")} == {
        "requestedBy": "alice",
        "approvedBy": "bob",
        "approvalId": approval_id,
    }


async def test_an_expired_approval_is_refused_clearly_and_runs_nothing(
    ops: Operations,
    envs: Environments,
    fake: FakeAdmin,
    audit: FakeAuditLog,
    store: FakeHeldWrites,
    clock: Clock,
) -> None:
    """Once the window has passed, bob's approval is refused as expired; nothing is deleted."""
    with pytest.raises(ApprovalRequired) as held:
        await ops.execute(by("alice"), ROUTE, FORCED)
    clock.moment = NOW + timedelta(minutes=15)

    with pytest.raises(PendingActionUnavailable) as expired:
        await Approvals(envs, store).approve(by("bob"), held.value.data["approvalId"])

    assert expired.value.data["state"] == "expired"
    assert deployment_ids(fake) == ["dp_busy", "dp_keep"]
    assert audit.outcomes()[-1] == (ROUTE, "failed")


async def test_a_non_operator_cannot_approve(
    ops: Operations, envs: Environments, fake: FakeAdmin, audit: FakeAuditLog, store: FakeHeldWrites
) -> None:
    """A key without operate permission is denied and the request keeps waiting."""
    with pytest.raises(ApprovalRequired) as held:
        await ops.execute(by("alice"), ROUTE, FORCED)
    approval_id = held.value.data["approvalId"]

    with pytest.raises(PermissionRequired):
        await Approvals(envs, store).approve(by("mallory", NO_ROLE), approval_id)

    assert list(store.held) == [approval_id]
    assert audit.outcomes()[-1] == (ROUTE, "denied")
    assert deployment_ids(fake) == ["dp_busy", "dp_keep"]


async def test_with_the_rule_off_force_drain_runs_at_once(
    admin: RestateAdminClient, fake: FakeAdmin, store: FakeHeldWrites
) -> None:
    """TWO_PERSON_FORCE_DRAIN=false: the requester's forceDrain cleanup runs as it did before."""
    gate = ApprovalGate(TwoPersonRule(force_drain=False), store)
    ops = Operations(admin=admin, ingress=None, audit=FakeAuditLog(), approvals=gate)

    await ops.execute(by("alice"), ROUTE, FORCED)

    assert deployment_ids(fake) == ["dp_keep"]
    assert store.held == {}


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("false", False), ("true", True)])
def test_two_person_force_drain_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, expected: bool
) -> None:
    """TWO_PERSON_FORCE_DRAIN is on by default and can be turned off."""
    clean_settings_environment(monkeypatch, tmp_path)
    if value is not None:
        monkeypatch.setenv("TWO_PERSON_FORCE_DRAIN", value)

    assert load_settings().two_person_force_drain is expected


async def test_an_approval_runs_in_the_environment_that_held_the_write(
    admin: RestateAdminClient, fake: FakeAdmin, store: FakeHeldWrites, clock: Clock
) -> None:
    """A staging cleanup held for approval is run by the staging operations, not the default's."""
    elsewhere = FakeAdmin()
    async with elsewhere.client() as other_admin:
        gate = ApprovalGate(TwoPersonRule(), store, environment="staging")
        staging = Operations(admin=admin, ingress=None, audit=FakeAuditLog(), approvals=gate)
        default = Operations(admin=other_admin, ingress=None, audit=FakeAuditLog())
        specs = {
            name: EnvironmentSpec(name=name, admin_url=f"http://{name}.test")
            for name in ("default", "staging")
        }
        envs = Environments(
            [
                Environment(specs["default"], other_admin, None, default),
                Environment(specs["staging"], admin, None, staging),
            ],
            "default",
        )
        with pytest.raises(ApprovalRequired) as held:
            await staging.execute(by("alice"), ROUTE, FORCED)

        await Approvals(envs, store).approve(by("bob"), held.value.data["approvalId"])

    assert held.value.data["environment"] == "staging"
    assert deployment_ids(fake) == ["dp_keep"]
    assert elsewhere.requests == []


async def test_an_approver_acting_in_another_environment_is_refused(
    admin: RestateAdminClient, fake: FakeAdmin, store: FakeHeldWrites, clock: Clock
) -> None:
    """An HTTP approver authorized in the default environment cannot run staging's held write:
    refused naming the environment it belongs to, and it still waits for a staging operator."""
    elsewhere = FakeAdmin()
    async with elsewhere.client() as other_admin:
        gate = ApprovalGate(TwoPersonRule(), store, environment="staging")
        staging = Operations(admin=admin, ingress=None, audit=FakeAuditLog(), approvals=gate)
        default = Operations(admin=other_admin, ingress=None, audit=FakeAuditLog())
        envs = Environments(
            [
                Environment(
                    EnvironmentSpec("default", "http://d.test"), other_admin, None, default
                ),
                Environment(EnvironmentSpec("staging", "http://s.test"), admin, None, staging),
            ],
            "default",
        )
        with pytest.raises(ApprovalRequired) as held:
            await staging.execute(by("alice"), ROUTE, FORCED)
        approval_id = held.value.data["approvalId"]
        approvals = Approvals(envs, store)

        with pytest.raises(InvalidInput) as refused:
            await approvals.approve(by("bob"), approval_id, environment="default")
        assert "belongs to the environment staging" in refused.value.rule
        assert await store.peek(approval_id, "staging") is not None

        await approvals.approve(by("bob"), approval_id, environment="staging")

    assert deployment_ids(fake) == ["dp_keep"]
    assert elsewhere.requests == []
