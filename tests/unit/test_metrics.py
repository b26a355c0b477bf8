"""/metrics: attempts timed through the audit port, append failures counted, watch gauges set."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import MeteredAuditLog, Metrics
from core.audit import Actor
from core.environments import EnvironmentAudit
from core.errors import AdminUnreachable, AuditUnavailable, PermissionRequired
from core.operations import Attempt, Operations
from core.restate.queries import ServiceStuck
from core.watch.engine import CheckResult
from core.watch.probe import WatchReadout
from tests.fakes import FakeAuditLog
from tests.unit.reports import WF, report

OPERATOR = Actor(id="U1", surface="slack", role="operator")


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_operations_are_counted_and_timed_by_route_and_outcome() -> None:
    """A denied write is one operation with outcome denied, and its duration is observed."""
    metrics = Metrics()
    audit = EnvironmentAudit(MeteredAuditLog(FakeAuditLog(), metrics), "default")
    operations = Operations(admin=None, ingress=None, audit=audit)
    visitor = Actor(id="U2", surface="slack", role="none")
    with pytest.raises(PermissionRequired):
        await operations.execute(Attempt(actor=visitor), "force-redeploy", {})

    found = samples(metrics)
    labels = (("environment", "default"), ("outcome", "denied"), ("route", "force-redeploy"))
    assert found[("restate_ops_operations_total", labels)] == 1.0
    assert found[("restate_ops_operation_duration_seconds_count", labels)] == 1.0


async def test_audit_append_failures_are_counted_by_phase() -> None:
    """A refused start and a lost finish each count once."""
    metrics = Metrics()
    fake = FakeAuditLog()
    operations = Operations(admin=None, ingress=None, audit=MeteredAuditLog(fake, metrics))
    fake.available = False
    with pytest.raises(AuditUnavailable):
        await operations.execute(
            Attempt(actor=OPERATOR), "force-redeploy", {"serviceUrl": "http://x:9080"}
        )
    fake.available, fake.finish_available = True, False
    with pytest.raises(AdminUnreachable):
        await operations.execute(
            Attempt(actor=OPERATOR), "force-redeploy", {"serviceUrl": "http://x:9080"}
        )

    found = samples(metrics)
    assert found[("restate_ops_audit_append_failures_total", (("phase", "start"),))] == 1.0
    assert found[("restate_ops_audit_append_failures_total", (("phase", "finish"),))] == 1.0


def test_a_leader_check_sets_the_readout_gauges() -> None:
    """Component status, invocations by status, paused per service and open alerts by rule."""
    metrics = Metrics()
    readout = WatchReadout(
        report=report(by_status={"completed": 4, "paused": 2}),
        stuck={WF: ServiceStuck(paused=2, backing_off=1)},
        failures={},
        long_backing_off={},
        zombies={},
        version="1.7.12",
    )
    metrics.record_check(
        CheckResult(leader=True, seconds=0.2, readout=readout, open_by_rule={"paused": 1})
    )

    found = samples(metrics)
    env = ("environment", "default")
    assert found[("restate_ops_watch_leader", (env,))] == 1.0
    assert found[("restate_ops_alerts_open", (env, ("rule", "paused")))] == 1.0
    assert found[("restate_ops_alerts_open", (env, ("rule", "failures")))] == 0.0
    assert found[("restate_ops_invocations", (env, ("status", "paused")))] == 2.0
    status = (("component", "admin"), env, ("status", "ok"))
    assert found[("restate_ops_component_status", status)] == 1.0
    paused = (env, ("service", WF), ("status", "paused"))
    assert found[("restate_ops_service_invocations", paused)] == 2.0
    checks = (env, ("result", "ok"), ("role", "leader"))
    assert found[("restate_ops_watch_checks_total", checks)] == 1.0


def _readout(paused: dict[str, int]) -> WatchReadout:
    return WatchReadout(
        report=report(by_status={"completed": 4, "paused": sum(paused.values())}),
        stuck={service: ServiceStuck(paused=n, backing_off=0) for service, n in paused.items()},
        failures={},
        long_backing_off={},
        zombies={},
        version="1.7.12",
    )


def test_each_environment_keeps_its_own_series() -> None:
    """A check of staging neither clears nor overwrites prod's gauges; a service that has
    nothing paused any more drops out of its own environment only."""
    metrics = Metrics()
    for env, readout in (("prod", _readout({WF: 3, "Other": 1})), ("staging", _readout({WF: 5}))):
        metrics.record_check(
            CheckResult(leader=True, seconds=0.1, readout=readout, open_by_rule={}), env
        )
    metrics.record_check(
        CheckResult(leader=True, seconds=0.1, readout=_readout({WF: 2}), open_by_rule={}), "prod"
    )

    found = samples(metrics)

    def paused(env: str, service: str) -> float | None:
        labels = (("environment", env), ("service", service), ("status", "paused"))
        return found.get(("restate_ops_service_invocations", labels))

    assert paused("prod", WF) == 2.0
    assert paused("prod", "Other") is None
    assert paused("staging", WF) == 5.0
