"""The headline of every readout: core's verdict with its severity, and what is wrong in a line.

The level is core's (``DoctorReport.verdict``); nothing here decides whether something is wrong.
The line below it names the facts behind that level, from the readout's own lists: which
components are not ok, how many workflow keys terminal-failed, which runs are stuck and how.
"""

from __future__ import annotations

from collections import Counter

from core.models import DoctorReport, VerdictStatus
from handlers.blocks.format import ago, clip, esc

SEVERITY: dict[VerdictStatus, str] = {
    "unreachable": "🔴",
    "degraded": "🟠",
    "attention": "🟠",
    "ok": "✅",
}
WORD: dict[VerdictStatus, str] = {
    "unreachable": "Restate unreachable",
    "degraded": "Restate degraded",
    "attention": "needs attention",
    "ok": "all clear",
}


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def trouble(report: DoctorReport) -> list[str]:
    """What is wrong, one short phrase each (``2 workflow keys terminal-failed``)."""
    verdict = report.verdict
    if verdict.status == "unreachable":
        return [verdict.summary]
    parts = [
        f"{name} {component.status}"
        for name, component in (
            ("ingress", report.ingress),
            ("admin API", report.admin),
            ("deployments", report.deployments),
            ("services", report.services),
            ("invocations", report.invocations),
        )
        if component.status != "ok"
    ]
    kinds = {s.name: (s.type or "").lower() for s in report.services.items}
    failures = report.invocations.recent_failures
    keys = {
        (f.service_name, f.service_key)
        for f in failures
        if f.service_key and kinds.get(f.service_name, "workflow") == "workflow"
    }
    others = [f for f in failures if (f.service_name, f.service_key) not in keys]
    if keys:
        parts.append(_plural(len(keys), "workflow key", "workflow keys") + " terminal-failed")
    if others:
        parts.append(_plural(len(others), "other run", "other runs") + " failed")
    by_status = Counter(item.status for item in report.invocations.stuck)
    for status, count in sorted(by_status.items()):
        oldest = min(
            (
                s.modified_at
                for s in report.invocations.stuck
                if s.status == status and s.modified_at
            ),
            default=None,
        )
        since = f", last change {ago(oldest, report.checked_at)}" if oldest else ""
        parts.append(_plural(count, "run", "runs") + f" {status}{since}")
    unknown = [
        what
        for what, count in (("failures", verdict.failures), ("stuck runs", verdict.stuck))
        if count is None
    ]
    if unknown:
        parts.append(" and ".join(unknown) + " unknown")
    return parts or [verdict.summary]


def headline(report: DoctorReport) -> str:
    """``🟠 Restate doctor: needs attention`` (plain text, for the header block)."""
    status = report.verdict.status
    return f"{SEVERITY[status]} Restate doctor: {WORD[status]}"


def trouble_line(report: DoctorReport, limit: int = 400) -> str:
    """The facts behind the verdict as one mrkdwn line: ``*2 workflow keys …* · 1 run …``."""
    return esc(clip(" · ".join(trouble(report)), limit))


def plain_trouble_line(report: DoctorReport) -> str:
    return " · ".join(trouble(report))
