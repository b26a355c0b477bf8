"""describe_changes: what changed between the first readout and the verify readout."""

from __future__ import annotations

from core.models import AdminReadout, ServiceItem
from core.report_diff import describe_changes
from tests.unit.reports import deployment, failure, report, stuck_item, unreachable


def test_identical_readouts_have_no_changes() -> None:
    """Two equal readouts describe no change."""
    before = report(failures=[failure("a")])

    assert describe_changes(before, before) == []


def test_component_status_change_is_described() -> None:
    """A component that moved from unreachable to ok is named with both statuses."""
    before = report(admin=AdminReadout(status="unreachable", error="refused"))
    after = report()

    assert "admin: unreachable → ok" in describe_changes(before, after)


def test_deployments_removed_and_added() -> None:
    """Deleted and newly registered deployments are listed with their URLs."""
    before = report(deployments=[deployment(1, "drained"), deployment(2, "active")])
    after = report(deployments=[deployment(2, "active"), deployment(3, "active")])

    changes = describe_changes(before, after)

    assert "deployment dp_01 removed (http://ddwf-1:9080/v1)" in changes
    assert "deployment dp_03 added (http://ddwf-3:9080/v1)" in changes


def test_drain_state_change_is_described() -> None:
    """A kept deployment that finished draining says so."""
    before = report(deployments=[deployment(1, "draining")])
    after = report(deployments=[deployment(1, "drained")])

    assert describe_changes(before, after) == ["deployment dp_01: draining → drained"]


def test_outage_is_not_reported_as_removals() -> None:
    """When a readout could not list deployments, its missing items are not called removed."""
    before = report(deployments=[deployment(1), deployment(2)], failures=[failure("a")])

    changes = describe_changes(before, unreachable())

    assert [c for c in changes if "removed" in c or "gone" in c] == []
    assert "deployments: ok → unreachable" in changes


def test_failures_gone_and_new() -> None:
    """A recovered key's failure is gone; a fresh failure is new."""
    before = report(failures=[failure("a"), failure("b")])
    after = report(failures=[failure("b"), failure("c")])

    changes = describe_changes(before, after)

    assert "failure gone: IdentityRecoveryWorkflow/a (inv_a)" in changes
    assert "new failure: IdentityRecoveryWorkflow/c (inv_c)" in changes


def test_stuck_gone_new_and_status_change() -> None:
    """Stuck invocations that stopped, appeared or changed status are each described."""
    before = report(stuck=[stuck_item("a"), stuck_item("b")])
    after = report(stuck=[stuck_item("b", "paused"), stuck_item("c")])

    changes = describe_changes(before, after)

    assert "no longer stuck: IdentityRecoveryWorkflow/a (inv_stuck_a, was backing-off)" in changes
    assert "newly stuck: IdentityRecoveryWorkflow/c (inv_stuck_c, backing-off)" in changes
    assert "IdentityRecoveryWorkflow/b (inv_stuck_b): backing-off → paused" in changes


def test_service_revision_and_status_counts() -> None:
    """A new service revision and changed invocation counts are described."""
    before = report(services=[ServiceItem(name="Wf", revision=3)], by_status={"running": 2})
    after = report(services=[ServiceItem(name="Wf", revision=4)], by_status={"running": 1})

    changes = describe_changes(before, after)

    assert "service Wf: revision 3 → 4" in changes
    assert "running invocations: 2 → 1" in changes
