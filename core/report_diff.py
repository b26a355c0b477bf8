"""What changed between two doctor readouts, as plain sentences (Slack, HTTP and CLI reuse it).

Items are compared only where both readouts could list them: a component that was unreachable
(or reported an error) in either readout says nothing about its items, so an outage is never
reported as "deployment removed".
"""

from __future__ import annotations

from core.models import DoctorReport, FailureItem, StuckItem

_COMPONENTS = ("ingress", "admin", "deployments", "services", "invocations")


def describe_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    """One sentence per difference from ``before`` to ``after``; empty when nothing changed."""
    return [
        *_component_changes(before, after),
        *_deployment_changes(before, after),
        *_service_changes(before, after),
        *_status_count_changes(before, after),
        *_failure_changes(before, after),
        *_stuck_changes(before, after),
    ]


def _listed(report: DoctorReport, component: str) -> bool:
    readout = getattr(report, component)
    return bool(readout.status != "unreachable" and readout.error is None)


def _component_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    lines = []
    for name in _COMPONENTS:
        old, new = getattr(before, name).status, getattr(after, name).status
        if old != new:
            lines.append(f"{name}: {old} → {new}")
    if before.admin.version and after.admin.version and before.admin.version != after.admin.version:
        lines.append(f"admin version: {before.admin.version} → {after.admin.version}")
    return lines


def _deployment_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    if not (_listed(before, "deployments") and _listed(after, "deployments")):
        return []
    old = {d.id: d for d in before.deployments.items}
    new = {d.id: d for d in after.deployments.items}
    lines = [f"deployment {i} removed ({old[i].service_url})" for i in old if i not in new]
    lines += [f"deployment {i} added ({new[i].service_url})" for i in new if i not in old]
    for i in sorted(old.keys() & new.keys()):
        if old[i].drain_state != new[i].drain_state:
            lines.append(f"deployment {i}: {old[i].drain_state} → {new[i].drain_state}")
    return lines


def _service_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    if not (_listed(before, "services") and _listed(after, "services")):
        return []
    old = {s.name: s.revision for s in before.services.items}
    new = {s.name: s.revision for s in after.services.items}
    lines = [f"service {name} removed" for name in old if name not in new]
    lines += [f"service {name} added (revision {new[name]})" for name in new if name not in old]
    lines += [
        f"service {name}: revision {old[name]} → {new[name]}"
        for name in old.keys() & new.keys()
        if old[name] != new[name]
    ]
    return sorted(lines)


def _status_count_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    if not (_listed(before, "invocations") and _listed(after, "invocations")):
        return []
    old, new = before.invocations.by_status, after.invocations.by_status
    return [
        f"{status} invocations: {old.get(status, 0)} → {new.get(status, 0)}"
        for status in sorted(old.keys() | new.keys())
        if old.get(status, 0) != new.get(status, 0)
    ]


def _target(item: FailureItem | StuckItem) -> str:
    return f"{item.service_name}/{item.service_key}" if item.service_key else item.service_name


def _failure_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    if not (_listed(before, "invocations") and _listed(after, "invocations")):
        return []
    old = {f.id: f for f in before.invocations.recent_failures}
    new = {f.id: f for f in after.invocations.recent_failures}
    lines = [f"failure gone: {_target(f)} ({i})" for i, f in old.items() if i not in new]
    lines += [f"new failure: {_target(f)} ({i})" for i, f in new.items() if i not in old]
    return lines


def _stuck_changes(before: DoctorReport, after: DoctorReport) -> list[str]:
    if not (_listed(before, "invocations") and _listed(after, "invocations")):
        return []
    old = {s.id: s for s in before.invocations.stuck}
    new = {s.id: s for s in after.invocations.stuck}
    lines = [
        f"no longer stuck: {_target(s)} ({i}, was {s.status})"
        for i, s in old.items()
        if i not in new
    ]
    lines += [
        f"newly stuck: {_target(s)} ({i}, {s.status})" for i, s in new.items() if i not in old
    ]
    lines += [
        f"{_target(new[i])} ({i}): {old[i].status} → {new[i].status}"
        for i in sorted(old.keys() & new.keys())
        if old[i].status != new[i].status
    ]
    return lines
