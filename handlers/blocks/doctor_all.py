"""``/restate doctor all``: one compact line per environment (badge, verdict, key counts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from core.errors import OpsError
from core.operations import DoctorResult
from handlers.blocks.doctor import context
from handlers.blocks.format import Rendered, clip, code, esc, fallback, mention, sections
from handlers.blocks.verdict import SEVERITY, WORD

HEADER = "Restate doctor: every environment"


@dataclass(frozen=True)
class EnvironmentLine:
    """One environment's doctor: its readout, or why there is none."""

    badge: str
    result: DoctorResult | None = None
    error: OpsError | None = None


def _count(value: int | None, what: str) -> str:
    return f"{'?' if value is None else value} {what}"


def line_parts(line: EnvironmentLine) -> tuple[str, list[str], str | None]:
    """The verdict (or the error's code), its facts as plain text, and the request id."""
    if line.result is None:
        error = line.error
        if error is None:
            return "❌ no readout", [], None
        return f"❌ {error.code}", [clip(error.message, 200)], error.request_id
    report, verdict = line.result.report, line.result.report.verdict
    facts = [
        _count(verdict.failures, "failed"),
        _count(verdict.stuck, "stuck"),
        f"{len(report.deployments.items)} deployments",
    ]
    return f"{SEVERITY[verdict.status]} {WORD[verdict.status]}", facts, line.result.request_id


def _mrkdwn(line: EnvironmentLine) -> str:
    verdict, facts, request_id = line_parts(line)
    parts = [f"*{esc(line.badge)}*", esc(verdict), *(esc(fact) for fact in facts)]
    if request_id:
        parts.append(f"request {code(request_id)}")
    return " · ".join(parts)


def doctor_all_message(lines: Sequence[EnvironmentLine], *, requested_by: str) -> Rendered:
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=HEADER), block_id="restate.header"),
        *sections("One line per environment", [_mrkdwn(line) for line in lines], "restate.all"),
        context(
            f"Requested by {mention(requested_by)} · `/restate doctor <environment>` for one "
            "environment's readout and its actions."
        ),
    ]
    plain = [HEADER]
    for line in lines:
        verdict, facts, request_id = line_parts(line)
        request = [f"request {request_id}"] if request_id else []
        plain.append(" · ".join([line.badge, verdict, *facts, *request]))
    return Rendered(blocks, fallback(plain))
