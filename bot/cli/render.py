"""Plain-text renderings for the terminal: the doctor table, write outcomes and errors. Pure."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from bot.cli.terminal import Cell, Style, table
from core.errors import OpsError
from core.models import (
    Advice,
    CleanupResponse,
    DoctorReport,
    ForceRedeployResponse,
    RecoverResponse,
)
from core.operations import DoctorResult, WriteResult

ERROR_CHARS = 100
MAX_ROWS = 20


def clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def component_statuses(report: DoctorReport) -> list[str]:
    return [
        report.ingress.status,
        report.admin.status,
        report.deployments.status,
        report.services.status,
        report.invocations.status,
    ]


# --- doctor -------------------------------------------------------------------------------------


def doctor_text(result: DoctorResult, style: Style) -> str:
    """The component table, then the details an operator acts on, then the advice."""
    report = result.report
    parts = [_components(report, style)]
    parts += _deployments(report, style)
    parts += _failures(report, style)
    parts += _stuck(report, style)
    parts.append(advice_text(result.advice, style))
    footer = f"checked {report.checked_at} · request {result.request_id}"
    if result.audit_error:
        footer += "\n" + style.paint(f"warning: not audited: {result.audit_error}", "yellow")
    parts.append(style.dim(footer))
    return "\n\n".join(part for part in parts if part)


def _ms(latency: int | None) -> str:
    return f"{latency} ms" if latency is not None else "-"


def _components(report: DoctorReport, style: Style) -> str:
    inv = report.invocations
    by_status = ", ".join(f"{name} {count}" for name, count in sorted(inv.by_status.items()))
    invocations = f"{len(inv.recent_failures)} recent failures, {len(inv.stuck)} stuck"
    rows: list[tuple[str, str, str, str, str | None]] = [
        ("ingress", report.ingress.status, _ms(report.ingress.latency_ms), "",
         report.ingress.error),
        ("admin", report.admin.status, _ms(report.admin.latency_ms),
         f"version {report.admin.version}" if report.admin.version else "", report.admin.error),
        ("deployments", report.deployments.status, "",
         f"{len(report.deployments.items)} registered", report.deployments.error),
        ("services", report.services.status, "",
         f"{len(report.services.items)} registered", report.services.error),
        ("invocations", inv.status, "",
         f"{invocations}; {by_status}" if by_status else invocations, inv.error),
    ]  # fmt: skip
    cells: list[list[Cell]] = [
        [name, (status, _status_colour(status)), latency, _detail(detail, error)]
        for name, status, latency, detail, error in rows
    ]
    return table(style, ["COMPONENT", "STATUS", "LATENCY", "DETAIL"], cells)


def _status_colour(status: str) -> str | None:
    return {"ok": "green", "degraded": "yellow", "unreachable": "red"}.get(status)


def _detail(detail: str, error: str | None) -> str:
    if not error:
        return detail
    return f"{detail}; {clip(error, ERROR_CHARS)}" if detail else clip(error, ERROR_CHARS)


def _deployments(report: DoctorReport, style: Style) -> list[str]:
    items = report.deployments.items
    if not items:
        return []
    rows: list[list[Cell]] = []
    for item in items[:MAX_ROWS]:
        state: str = item.drain_state
        if item.pinned_invocations:
            state += f", {item.pinned_invocations} pinned"
        if item.latest_for:
            state += f", latest for {len(item.latest_for)} services"
        rows.append([item.id, item.service_url, item.created_at or "-", state])
    return [
        style.bold("Deployments")
        + "\n"
        + table(style, ["ID", "SERVICE URL", "CREATED", "STATE"], rows)
    ]


def _failures(report: DoctorReport, style: Style) -> list[str]:
    items = report.invocations.recent_failures
    if not items:
        return []
    rows: list[list[Cell]] = [
        [
            item.service_name,
            item.service_key or "-",
            item.failed_at or "-",
            clip(item.error_message or "", ERROR_CHARS),
        ]
        for item in items[:MAX_ROWS]
    ]
    headers = ["SERVICE", "KEY", "FAILED AT", "ERROR"]
    return [style.bold("Recent failures") + "\n" + table(style, headers, rows)]


def _stuck(report: DoctorReport, style: Style) -> list[str]:
    items = report.invocations.stuck
    if not items:
        return []
    rows: list[list[Cell]] = [
        [
            item.service_name,
            item.service_key or "-",
            (item.status, "yellow"),
            str(item.retry_count) if item.retry_count is not None else "-",
            clip(": ".join(p for p in (item.error_code, item.error_message) if p), ERROR_CHARS),
        ]
        for item in items[:MAX_ROWS]
    ]
    headers = ["SERVICE", "KEY", "STATUS", "RETRIES", "ERROR"]
    return [style.bold("Retrying or paused") + "\n" + table(style, headers, rows)]


def advice_text(advice: list[Advice], style: Style) -> str:
    if not advice:
        return style.paint("Nothing to do: no advice for this readout.", "green")
    lines = [style.bold("Next steps")]
    for number, item in enumerate(advice, start=1):
        lines.append(f"{number}. {item.title}")
        lines += [f"   {line}" for line in item.preview.splitlines()]
        command = cli_command(item)
        if command:
            lines.append("   " + style.paint(f"$ {command}", "bold"))
    return "\n".join(lines)


def cli_command(advice: Advice) -> str | None:
    """The `restate-ops` command line that carries out a write advice, quoted for a shell."""
    args = advice.args
    if advice.route == "force-redeploy":
        words = ["redeploy", str(args.get("serviceUrl", ""))]
        words += [] if args.get("force", True) else ["--no-force"]
    elif advice.route == "cleanup-stale-deployments":
        words = ["cleanup", str(args.get("serviceUrl", ""))]
        words += ["--force-drain"] if args.get("forceDrain") else []
    elif advice.route == "recover-stuck-workflow":
        words = ["recover", str(args.get("serviceName", "")), str(args.get("serviceKey", ""))]
    else:
        return None
    return shlex.join(["restate-ops", *words])


# --- writes and errors ----------------------------------------------------------------------------


def preview_text(advice: Advice, style: Style) -> str:
    return "\n".join([style.bold(advice.title), *advice.preview.splitlines()])


def write_text(result: WriteResult, args: Mapping[str, Any], style: Style) -> str:
    response = result.response
    done = style.paint("done", "green")
    if isinstance(response, ForceRedeployResponse):
        lines = [f"{done}: registered {args.get('serviceUrl')} as {response.deployment_id}."]
    elif isinstance(response, CleanupResponse):
        lines = [f"{done}: cleanup acknowledged."]
        if response.report:
            rows: list[list[Cell]] = [
                [
                    item.id,
                    item.service_url,
                    (item.action, _action_colour(item.action)),
                    clip(item.error or item.reason or "", ERROR_CHARS),
                ]
                for item in response.report
            ]
            lines.append(table(style, ["ID", "SERVICE URL", "ACTION", "WHY"], rows))
    else:
        lines = _recover_lines(response, args, done, style)
    if not result.audit_complete:
        lines.append(style.paint("warning: the audit finish entry was not stored", "yellow"))
    lines.append(style.dim(f"request {result.request_id} · run `restate-ops doctor` to verify"))
    return "\n".join(lines)


def _action_colour(action: str) -> str | None:
    return {"kept": "green", "deleted": "green", "skipped": "yellow", "failed": "red"}.get(action)


def _recover_lines(
    response: RecoverResponse, args: Mapping[str, Any], done: str, style: Style
) -> list[str]:
    key = f"{args.get('serviceName')}/{args.get('serviceKey')}"
    lines = [
        f"{done}: {key} is ready for a new run.",
        f"killed: {', '.join(response.killed) or 'none'}",
        f"purged: {', '.join(response.purged) or 'none'}",
        f"state cleared: {'yes' if response.state_cleared else 'no'}",
    ]
    lines += [style.paint(f"warning: {warning}", "yellow") for warning in response.warnings]
    return lines


def error_text(error: OpsError, style: Style) -> str:
    """The code and message, the structured data that matters, what to do next, the request id."""
    lines = [f"{style.paint('error', 'red')}: {error.code}: {error.message}"]
    if error.data.get("reason"):
        lines.append(f"reason: {error.data['reason']}")
    if error.data.get("invocationIds"):
        lines.append(f"invocations: {', '.join(map(str, error.data['invocationIds']))}")
    lines.append(f"next: {getattr(error, 'advice', None) or error.next_step}")
    if error.request_id:
        lines.append(style.dim(f"request {error.request_id}"))
    return "\n".join(lines)
