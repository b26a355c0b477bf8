"""The watch rules: a readout in, the conditions that hold out. Pure and deterministic.

=============  ===============================================================  =================
rule           holds for a target when                                          target
=============  ===============================================================  =================
component      a doctor component is not ``ok``                                 component name
failures       at least ``failures_min`` terminal failures in the last          service
               ``failure_window``
paused         at least ``paused_min`` invocations are paused                   service
backing-off    an invocation has been backing off longer than ``backing_off``   service
zombies        non-completed invocations are pinned to a deployment that is     deployment id
               no longer registered (RT0011)
draining       a deployment has been draining (not latest, still pinned)        deployment id
               for longer than ``draining``
version        the Restate server version changed within ``failure_window``     ``restate``
=============  ===============================================================  =================

A rule whose data could not be read this time is *unknown*: its open alerts neither resolve nor
change (an admin-API outage must not look like recovery).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.watch.catalog import RuleName, Thresholds, counted, minutes
from core.watch.probe import WatchReadout


@dataclass(frozen=True)
class Condition:
    """A rule that holds for one target now, with the figure that alerts are updated on."""

    rule: RuleName
    target: str
    count: int
    summary: str

    @property
    def key(self) -> str:
        return alert_key(self.rule, self.target)


def alert_key(rule: str, target: str) -> str:
    return f"{rule}:{target}"


@dataclass(frozen=True)
class Memory:
    """What the rules remember between checks (kept in Redis by the leader)."""

    #: When each deployment was first seen draining.
    draining_since: Mapping[str, datetime]
    #: The last version seen, the one before it, and when it changed.
    version: str | None = None
    previous_version: str | None = None
    version_changed_at: datetime | None = None


@dataclass(frozen=True)
class Evaluation:
    conditions: dict[str, Condition]
    #: Rules whose data was missing this time: their alerts stay as they are.
    unknown: frozenset[RuleName]
    memory: Memory


def evaluate(
    readout: WatchReadout, thresholds: Thresholds, memory: Memory, now: datetime
) -> Evaluation:
    """Every condition that holds in ``readout``, and the memory for the next check."""
    found: list[Condition] = []
    unknown: set[RuleName] = set()
    found += _components(readout)
    for rule, conditions in (
        ("failures", _failures(readout, thresholds)),
        ("paused", _paused(readout, thresholds)),
        ("backing-off", _backing_off(readout, thresholds)),
        ("zombies", _zombies(readout, thresholds)),
    ):
        if conditions is None:
            unknown.add(rule)  # type: ignore[arg-type]
        else:
            found += conditions
    draining, draining_since = _draining(readout, thresholds, memory, now)
    if draining is None:
        unknown.add("draining")
    else:
        found += draining
    version, memory = _version(readout, thresholds, memory, now)
    if version is None:
        unknown.add("version")
    else:
        found += version
    memory = Memory(
        draining_since, memory.version, memory.previous_version, memory.version_changed_at
    )
    return Evaluation({c.key: c for c in found}, frozenset(unknown), memory)


def _components(readout: WatchReadout) -> list[Condition]:
    """One condition per component not ok; behind an unreachable admin API, only that one."""
    report = readout.report
    components = [("admin", report.admin.status, report.admin.error)]
    if readout.ingress_probed:
        components.insert(0, ("ingress", report.ingress.status, report.ingress.error))
    if report.admin.status != "unreachable":
        components += [
            ("deployments", report.deployments.status, report.deployments.error),
            ("services", report.services.status, report.services.error),
            ("invocations", report.invocations.status, report.invocations.error),
        ]
    return [
        Condition("component", name, 1, f"{name} is {status}" + (f": {error}" if error else ""))
        for name, status, error in components
        if status != "ok"
    ]


def _failures(readout: WatchReadout, thresholds: Thresholds) -> list[Condition] | None:
    if readout.failures is None:
        return None
    window = minutes(thresholds.failure_window)
    return [
        Condition(
            "failures", service, n, f"{counted(n, 'terminal failure')} of {service} in {window}"
        )
        for service, n in sorted(readout.failures.items())
        if n >= thresholds.failures_min
    ]


def _paused(readout: WatchReadout, thresholds: Thresholds) -> list[Condition] | None:
    if readout.stuck is None:
        return None
    return [
        Condition(
            "paused", service, s.paused, f"{counted(s.paused, 'paused invocation')} of {service}"
        )
        for service, s in sorted(readout.stuck.items())
        if s.paused >= thresholds.paused_min
    ]


def _backing_off(readout: WatchReadout, thresholds: Thresholds) -> list[Condition] | None:
    if readout.long_backing_off is None:
        return None
    longer = minutes(thresholds.backing_off)
    return [
        Condition(
            "backing-off",
            service,
            n,
            f"{counted(n, 'invocation')} of {service} backing off for over {longer}",
        )
        for service, n in sorted(readout.long_backing_off.items())
        if n > 0
    ]


def _zombies(readout: WatchReadout, thresholds: Thresholds) -> list[Condition] | None:
    if readout.zombies is None:
        return None
    return [
        Condition(
            "zombies",
            deployment,
            n,
            f"{counted(n, 'invocation')} pinned to {deployment}, which is no longer registered "
            "(RT0011)",
        )
        for deployment, n in sorted(readout.zombies.items())
        if n >= thresholds.zombies_min
    ]


def _draining(
    readout: WatchReadout, thresholds: Thresholds, memory: Memory, now: datetime
) -> tuple[list[Condition] | None, Mapping[str, datetime]]:
    deployments = readout.report.deployments
    if deployments.status == "unreachable" or any(
        d.drain_state == "unknown" for d in deployments.items
    ):
        return None, memory.draining_since
    draining = {d.id: d for d in deployments.items if d.drain_state == "draining"}
    since = {dep: memory.draining_since.get(dep, now) for dep in draining}
    conditions = [
        Condition(
            "draining",
            dep,
            draining[dep].pinned_invocations or 0,
            f"{dep} ({draining[dep].service_url}) is not the latest for any service and still "
            f"has {counted(draining[dep].pinned_invocations or 0, 'pinned invocation')}",
        )
        for dep, started in sorted(since.items())
        if now - started >= thresholds.draining
    ]
    return conditions, since


def _version(
    readout: WatchReadout, thresholds: Thresholds, memory: Memory, now: datetime
) -> tuple[list[Condition] | None, Memory]:
    current = readout.version
    if current is None:
        return None, memory
    if memory.version is not None and memory.version != current:
        memory = Memory(memory.draining_since, current, memory.version, now)
    elif memory.version is None:
        memory = Memory(memory.draining_since, current, None, None)
    changed = memory.version_changed_at
    if changed is None or now - changed >= thresholds.failure_window:
        return [], memory
    summary = f"Restate changed from {memory.previous_version} to {current}"
    return [Condition("version", "restate", 1, summary)], memory
