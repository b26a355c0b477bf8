"""The doctor readout as Block Kit sections (shared by the doctor message and the verify readout).

Long lists are capped and split so that 20 failures and 10 deployments stay within Slack's
limits (50 blocks per message, 3,000 characters per section).
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from core.models import (
    DeploymentItem,
    DoctorReport,
    FailureItem,
    ServiceItem,
    StuckItem,
)
from handlers.blocks.format import ago, clip, code, esc, ident, sections
from handlers.blocks.links import Links

STATUS_EMOJI: dict[str, str] = {"ok": "✅", "degraded": "🟠", "unreachable": "🔴"}
MAX_DEPLOYMENTS = 50
MAX_SERVICES = 30
MAX_STUCK = 10
ERROR_CHARS = 140


def _component(name: str, status: str, *details: str | None, error: str | None = None) -> str:
    parts = [f"{STATUS_EMOJI.get(status, '❔')} *{name}* {status}"]
    parts += [esc(d) for d in details if d]
    line = " · ".join(parts)
    return f"{line} — {esc(clip(error, 200))}" if error else line


def _ms(latency: int | None) -> str | None:
    return f"{latency} ms" if latency is not None else None


def component_lines(report: DoctorReport) -> list[str]:
    """One mrkdwn line per component: status emoji, latency, version, counts and error."""
    inv = report.invocations
    stuck = f"{len(inv.stuck)} stuck" if inv.stuck else None
    return [
        _component(
            "ingress",
            report.ingress.status,
            _ms(report.ingress.latency_ms),
            error=report.ingress.error,
        ),
        _component(
            "admin",
            report.admin.status,
            _ms(report.admin.latency_ms),
            f"v{report.admin.version}" if report.admin.version else None,
            error=report.admin.error,
        ),
        _component(
            "deployments",
            report.deployments.status,
            f"{len(report.deployments.items)} registered",
            error=report.deployments.error,
        ),
        _component(
            "services",
            report.services.status,
            f"{len(report.services.items)} registered",
            error=report.services.error,
        ),
        _component(
            "invocations",
            inv.status,
            f"{len(inv.recent_failures)} recent failures",
            stuck,
            error=inv.error,
        ),
    ]


def plain_component_lines(report: DoctorReport) -> list[str]:
    """The same lines for the plain-text fallback."""
    return [
        line.replace("*", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for line in component_lines(report)
    ]


def _more(lines: list[str], total: int, cap: int) -> list[str]:
    return [*lines, f"…and {total - cap} more"] if total > cap else lines


def _deployment(item: DeploymentItem, now: datetime, links: Links) -> str:
    parts = [
        links.deployment(item.id),
        ident(item.service_url, 100),
        ago(item.created_at, now),
        item.drain_state,
    ]
    if item.pinned_invocations:
        parts.append(f"{item.pinned_invocations} pinned")
    if item.latest_for:
        parts.append("latest for " + esc(clip(", ".join(item.latest_for), 120)))
    return "• " + " · ".join(parts)


def _service(item: ServiceItem, links: Links) -> str:
    parts = [links.service(item.name)]
    if item.revision is not None:
        parts.append(f"rev {item.revision}")
    if item.type:
        parts.append(esc(item.type.lower()))
    if item.deployment_id:
        parts.append("on " + links.deployment(item.deployment_id))
    return "• " + " · ".join(parts)


def target(item: FailureItem | StuckItem) -> str:
    name = code(item.service_name, 60)
    return f"{name}/{ident(item.service_key, 70)}" if item.service_key else name


def _failure(item: FailureItem, now: datetime, links: Links) -> str:
    error = " · " + code(item.error_message, ERROR_CHARS) if item.error_message else ""
    return f"• {target(item)} · {links.invocation(item.id)} · {ago(item.failed_at, now)}{error}"


def _stuck(item: StuckItem, now: datetime, links: Links) -> str:
    retries = f" · {item.retry_count} retries" if item.retry_count else ""
    detail = ": ".join(p for p in (item.error_code, item.error_message) if p)
    error = " · " + code(detail, ERROR_CHARS) if detail else ""
    since = f" · last change {ago(item.modified_at, now)}" if item.modified_at else ""
    return (
        f"• {target(item)} · {links.invocation(item.id)} · {esc(item.status)}"
        f"{retries}{since}{error}"
    )


def components_block(report: DoctorReport, block_id: str = "restate.components") -> Block:
    return SectionBlock(
        text=MarkdownTextObject(text="\n".join(component_lines(report))), block_id=block_id
    )


def detail_blocks(report: DoctorReport, links: Links | None = None) -> list[Block]:
    """Deployments, services, invocation counts, recent failures and stuck invocations."""
    links = links or Links()
    now = report.checked_at
    blocks: list[Block] = []
    deployments = report.deployments.items
    if deployments:
        lines = [_deployment(d, now, links) for d in deployments[:MAX_DEPLOYMENTS]]
        lines = _more(lines, len(deployments), MAX_DEPLOYMENTS)
        blocks += sections(f"Deployments ({len(deployments)})", lines, "restate.deployments")
    services = report.services.items
    if services:
        lines = _more(
            [_service(s, links) for s in services[:MAX_SERVICES]], len(services), MAX_SERVICES
        )
        blocks += sections(f"Services ({len(services)})", lines, "restate.services")
    inv = report.invocations
    if inv.by_status:
        counts = " · ".join(f"{esc(k)} {v}" for k, v in sorted(inv.by_status.items()))
        blocks += sections("Invocations by status", [counts], "restate.counts")
    if inv.recent_failures:
        lines = [_failure(f, now, links) for f in inv.recent_failures]
        blocks += sections(f"Recent failures ({len(lines)})", lines, "restate.failures")
    if inv.stuck:
        lines = _more(
            [_stuck(s, now, links) for s in inv.stuck[:MAX_STUCK]], len(inv.stuck), MAX_STUCK
        )
        blocks += sections(f"Stuck retrying ({len(inv.stuck)})", lines, "restate.stuck")
    return blocks
