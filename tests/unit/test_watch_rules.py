"""The watch rules and their hysteresis: readouts in, conditions and alert states out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import AdminReadout
from core.restate.queries import ServiceStuck
from core.watch.catalog import Thresholds
from core.watch.hysteresis import AlertState, step
from core.watch.probe import WatchReadout
from core.watch.rules import Evaluation, Memory, evaluate
from tests.unit.reports import deployment, report, unreachable

NOW = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
WF = "IdentityRecoveryWorkflow"


def readout(**fields: object) -> WatchReadout:
    values: dict[str, object] = {
        "report": report(),
        "stuck": {},
        "failures": {},
        "long_backing_off": {},
        "zombies": {},
        "version": "1.7.12",
    }
    values.update(fields)
    return WatchReadout(**values)  # type: ignore[arg-type]


def keys(evaluation: Evaluation) -> list[str]:
    return sorted(evaluation.conditions)


def test_a_healthy_readout_holds_no_condition() -> None:
    """Nothing is wrong, so no rule holds and none is unknown."""
    evaluation = evaluate(readout(), Thresholds(), Memory({}), NOW)
    assert (keys(evaluation), evaluation.unknown) == ([], frozenset())


def test_each_rule_names_its_target() -> None:
    """Paused, failures, long backing-off and zombie pins each hold per service or deployment."""
    evaluation = evaluate(
        readout(
            stuck={WF: ServiceStuck(paused=2, backing_off=1)},
            failures={WF: 3},
            long_backing_off={WF: 1},
            zombies={"dp_gone": 4},
            report=report(admin=AdminReadout(status="degraded", error="version: 500")),
        ),
        Thresholds(),
        Memory({}),
        NOW,
    )
    assert keys(evaluation) == [
        "backing-off:" + WF,
        "component:admin",
        "failures:" + WF,
        "paused:" + WF,
        "zombies:dp_gone",
    ]
    assert evaluation.conditions["paused:" + WF].count == 2
    assert evaluation.conditions["zombies:dp_gone"].count == 4


def test_thresholds_decide_when_a_count_is_trouble() -> None:
    """Counts below a threshold do not hold."""
    thresholds = Thresholds(failures_min=5, paused_min=3)
    evaluation = evaluate(
        readout(stuck={WF: ServiceStuck(paused=2)}, failures={WF: 4}), thresholds, Memory({}), NOW
    )
    assert keys(evaluation) == []


def test_a_rule_without_data_is_unknown_not_clear() -> None:
    """A failed query makes its rule unknown, so its alerts neither open nor resolve."""
    evaluation = evaluate(readout(stuck=None, zombies=None), Thresholds(), Memory({}), NOW)
    assert evaluation.unknown == frozenset({"paused", "zombies"})


def test_draining_holds_only_after_its_duration() -> None:
    """A draining deployment alerts once it has drained for longer than the threshold."""
    draining = report(deployments=[deployment(1, "active"), deployment(2, "draining")])
    first = evaluate(readout(report=draining), Thresholds(), Memory({}), NOW)
    assert keys(first) == []
    later = NOW + timedelta(minutes=61)
    second = evaluate(readout(report=draining), Thresholds(), first.memory, later)
    assert keys(second) == ["draining:dp_02"]
    assert second.memory.draining_since == {"dp_02": NOW}


def test_a_version_change_holds_for_the_window() -> None:
    """The first version seen is the baseline; a change holds until the window has passed."""
    first = evaluate(readout(version="1.7.11"), Thresholds(), Memory({}), NOW)
    changed = evaluate(readout(version="1.7.12"), Thresholds(), first.memory, NOW)
    assert changed.conditions["version:restate"].summary == "Restate changed from 1.7.11 to 1.7.12"
    after = evaluate(
        readout(version="1.7.12"), Thresholds(), changed.memory, NOW + timedelta(minutes=16)
    )
    assert (keys(first), keys(after)) == ([], [])


def stepped(
    checks: list[dict[str, int]], hold: int = 2, clear: int = 2
) -> list[dict[str, AlertState]]:
    """Run the hysteresis over a sequence of checks; each maps a service to its paused count."""
    states: dict[str, AlertState] = {}
    history = []
    for n, counts in enumerate(checks):
        stuck = {service: ServiceStuck(paused=count) for service, count in counts.items()}
        evaluation = evaluate(readout(stuck=stuck), Thresholds(), Memory({}), NOW)
        states = step(states, evaluation, NOW + timedelta(minutes=n), hold=hold, clear=clear).states
        history.append(states)
    return history


def test_an_alert_opens_after_two_checks_and_resolves_after_two_clear() -> None:
    """One check is not enough either way: no flapping."""
    history = stepped([{WF: 1}, {WF: 1}, {}, {WF: 2}, {}, {}])
    statuses = [{k: s.status for k, s in states.items()} for states in history]
    key = "paused:" + WF
    assert statuses == [
        {key: "pending"},
        {key: "open"},
        {key: "open"},
        {key: "open"},
        {key: "open"},
        {},
    ]
    assert history[3][key].count == 2


def test_a_single_blip_never_opens() -> None:
    """A condition seen once and then gone is forgotten."""
    assert stepped([{WF: 1}, {}, {WF: 1}, {}])[-1] == {}


def test_unknown_rules_keep_their_open_alerts() -> None:
    """An alert stays open (untouched) while its data cannot be read."""
    history = stepped([{WF: 1}, {WF: 1}])
    evaluation = evaluate(readout(stuck=None), Thresholds(), Memory({}), NOW)
    after = step(history[-1], evaluation, NOW, hold=2, clear=1)
    assert after.states == history[-1]
    assert after.resolved == []


def test_behind_an_unreachable_admin_api_only_the_admin_alerts() -> None:
    """One outage is one alert: the components that need the admin API do not alert too."""
    evaluation = evaluate(
        readout(report=unreachable(), stuck=None, failures=None, zombies=None),
        Thresholds(),
        Memory({}),
        NOW,
    )
    assert keys(evaluation) == ["component:admin", "component:ingress"]
    assert {"paused", "failures", "zombies", "draining"} <= evaluation.unknown


def test_an_ingress_that_is_not_configured_never_alerts() -> None:
    """Without an ingress URL doctor reads it unreachable by choice, not by trouble."""
    without = report().model_copy(
        update={"ingress": unreachable().ingress.model_copy(update={"error": "not configured"})}
    )
    probed = evaluate(readout(report=without), Thresholds(), Memory({}), NOW)
    unprobed = evaluate(
        readout(report=without, ingress_probed=False), Thresholds(), Memory({}), NOW
    )
    assert (keys(probed), keys(unprobed)) == (["component:ingress"], [])
