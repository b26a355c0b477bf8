"""``restate-ops invocations …``: triage from a terminal, on the same core as Slack and HTTP.

    restate-ops invocations query  [filter] [--show N] [--json]
    restate-ops invocations ACTION [filter] [--on latest|keep] [--reason R] [--yes] [--json]
    restate-ops invocations approve <actionId> [--yes] [--json]    (a second operator: runs it)
    restate-ops invocations status <actionId> [--json]
    restate-ops invocations stop <actionId>

ACTION is kill, cancel, purge, pause, resume, recover or restart-as-new. An action is previewed
(what runs, on how many, what is not touched), confirmed, then run on exactly the previewed ids;
under the two-person rule the preview prints the action id for a second operator instead.

This module holds the behaviour and the text; the command-line parser only maps its options onto
:func:`filter_body` and calls these coroutines with a ``Terminal``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.models import to_json_dict
from core.operations import Attempt
from core.triage.models import BulkReport, Preview, Readout
from core.triage.service import Triage

#: Option name (as the parser stores it) -> field of the HTTP body.
FILTER_FIELDS = {
    "service": "service",
    "handler": "handler",
    "key": "key",
    "key_prefix": "keyPrefix",
    "status": "status",
    "deployment": "deployment",
    "error": "errorContains",
    "error_code": "errorCode",
    "older_than": "olderThan",
    "newer_than": "newerThan",
    "limit": "limit",
}
OK, ERROR, DECLINED = 0, 1, 7


@dataclass(frozen=True)
class Terminal:
    """Where the command writes: results (stdout), notes and prompts (stderr), JSON."""

    out: Callable[[str], None]
    note: Callable[[str], None]
    ask: Callable[[str], Awaitable[bool]]
    dump: Callable[[Any], None]
    json: bool = False


def filter_body(options: Mapping[str, Any]) -> dict[str, Any]:
    """The parsed options as the filter's fields; ``status`` may be given comma-separated."""
    body: dict[str, Any] = {}
    for option, field in FILTER_FIELDS.items():
        value = options.get(option)
        if value is None or value == []:
            continue
        if field == "status":
            items = value if isinstance(value, list | tuple) else [value]
            value = [s.strip() for item in items for s in str(item).split(",") if s.strip()]
        body[field] = value
    return body


def readout_lines(readout: Readout) -> list[str]:
    capped = f" (capped: the first {readout.selected} are selected)" if readout.capped else ""
    lines = [
        f"{readout.total} invocation(s) match {readout.filter}{capped}",
        "by status:  " + _counts(readout.by_status),
        "by service: " + _counts(readout.by_service),
    ]
    if readout.items:
        lines.append("")
    for item in readout.items:
        target = "/".join(p for p in (item.service, item.key, item.handler) if p)
        error = f"  {item.error_code or ''} {item.error or ''}".rstrip()
        lines.append(f"{item.id}  {target}  {item.status}  created {item.created_at}{error}")
    lines.append("")
    for offer in readout.actions:
        if offer.offered:
            approval = ", second operator approves" if offer.needs_approval else ""
            lines.append(f"  {offer.action:<15} on {offer.applies_to}{approval}")
        else:
            lines.append(f"  {offer.action:<15} not offered: {offer.reason}")
    return lines


def preview_lines(preview: Preview) -> list[str]:
    lines = [preview.text, f"action id: {preview.action_id}"]
    lines += [f"  {item.id}  {item.status}" for item in preview.items]
    if preview.count > len(preview.items):
        lines.append(f"  … and {preview.count - len(preview.items)} more")
    return lines


def report_lines(report: BulkReport) -> list[str]:
    stopped = f"; stopped by {report.stopped_by}" if report.stopped_by else ""
    lines = [
        f"{report.action}: {report.done} done, {report.skipped} skipped, {report.failed} failed "
        f"of {report.total}{stopped}"
    ]
    order = {"failed": 0, "skipped": 1, "done": 2}
    for item in sorted(report.items, key=lambda o: order[o.outcome]):
        detail = f"  {item.detail}" if item.detail else ""
        lines.append(f"  {item.outcome:<7} {item.id}{detail}")
    return lines


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"


async def query(triage: Triage, attempt: Attempt, body: Mapping[str, Any], term: Terminal) -> int:
    readout = await triage.query(attempt, body)
    if term.json:
        term.dump({**to_json_dict(readout), "requestId": attempt.request_id})
    else:
        for line in readout_lines(readout):
            term.out(line)
    return OK


async def act(
    triage: Triage, attempt: Attempt, body: Mapping[str, Any], term: Terminal, *, yes: bool
) -> int:
    """Preview the action; unless it needs a second operator, confirm and run it."""
    preview = await triage.preview(attempt, body)
    for line in preview_lines(preview):
        term.note(line)
    if preview.needs_approval:
        term.note(
            "A second operator must approve and run it: "
            f"restate-ops invocations approve {preview.action_id}"
        )
        if term.json:
            term.dump({**to_json_dict(preview), "requestId": attempt.request_id})
        return OK
    if not yes and not await term.ask(f"Run {preview.action} on {preview.count}?"):
        await triage.cancel(attempt, preview.action_id)
        term.note("Declined: nothing was changed.")
        return DECLINED
    return _finished(await triage.execute(attempt, preview.action_id), attempt, term)


async def approve(
    triage: Triage, attempt: Attempt, action_id: str, term: Terminal, *, yes: bool
) -> int:
    """The second operator: approve the stored action, then run it."""
    status = await triage.report(attempt, action_id)
    term.note(f"{status.action} on {status.total}, requested by {status.requested_by}")
    if not yes and not await term.ask("Approve and run it?"):
        term.note("Declined: nothing was changed.")
        return DECLINED
    await triage.approve(attempt, action_id)
    return _finished(await triage.execute(attempt, action_id), attempt, term)


async def status(triage: Triage, attempt: Attempt, action_id: str, term: Terminal) -> int:
    """Where an action stands: its state and counts, and each item once it has finished."""
    report = await triage.report(attempt, action_id)
    if term.json:
        term.dump({**to_json_dict(report), "requestId": attempt.request_id})
        return OK
    by = f", approved by {report.approved_by}" if report.approved_by else ""
    term.note(f"{report.state}: {report.action} requested by {report.requested_by}{by}")
    if report.message:
        term.note(report.message)
    for line in report_lines(report):
        term.out(line)
    return OK


async def stop(triage: Triage, attempt: Attempt, action_id: str, term: Terminal) -> int:
    result = await triage.cancel(attempt, action_id)
    term.note(
        {
            "cancelled": "Cancelled: nothing was changed.",
            "stopping": "Stopping: items in flight finish, the rest are skipped.",
            "finished": "It has already finished.",
        }[result]
    )
    return OK


def _finished(report: BulkReport, attempt: Attempt, term: Terminal) -> int:
    if term.json:
        term.dump({**to_json_dict(report), "requestId": attempt.request_id})
    else:
        for line in report_lines(report):
            term.out(line)
    return ERROR if report.failed else OK
