"""The App Home tab: the current verdict, the last audited actions, and the help.

Operators see the verdict of a fresh doctor readout (with what is wrong and links) and the last
ten audited write attempts; everyone sees the help. Pure: view data in, a ``home`` view out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from core.audit import AttemptView
from core.audit.views import render_line
from core.operations import DoctorResult
from handlers.blocks.format import chunk_lines, clock, code, esc
from handlers.blocks.help import INTRO
from handlers.blocks.links import Links
from handlers.blocks.verdict import headline, trouble_line

MAX_ACTIONS = 10


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _verdict(result: DoctorResult, links: Links) -> list[Block]:
    report = result.report
    when = [f"checked {clock(report.checked_at)}", f"request {code(result.request_id)}"]
    footer = " · ".join([*when, *links.footer()])
    lines = [f"*{esc(headline(report))}*", trouble_line(report)]
    if result.advice:
        lines.append(
            f"{len(result.advice)} recommended action{'s' if len(result.advice) != 1 else ''}: "
            "run `/restate doctor` in the incident channel for the buttons."
        )
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines))), _context(footer)]


def _actions(views: Sequence[AttemptView], now: datetime) -> list[Block]:
    if not views:
        return [SectionBlock(text=MarkdownTextObject(text="No audited actions yet."))]
    lines = [esc(render_line(view, now)) for view in views[:MAX_ACTIONS]]
    return [
        SectionBlock(text=MarkdownTextObject(text=f"```{chunk}```"))
        for chunk in chunk_lines(lines, 2990)
    ]


def home_view(
    *,
    usage: str,
    now: datetime,
    result: DoctorResult | None = None,
    actions: Sequence[AttemptView] = (),
    operator: bool,
    links: Links | None = None,
    problem: str | None = None,
) -> View:
    """The Home tab; ``problem`` says why the readout is missing (e.g. Redis down)."""
    links = links or Links()
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="restate-ops"))]
    if result is not None:
        blocks += _verdict(result, links)
    elif problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠️ {esc(problem)}")))
    if operator:
        blocks += [
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text=f"*Last {MAX_ACTIONS} audited actions*")),
            *_actions(actions, now),
        ]
    else:
        blocks.append(
            _context(
                "You are not on the operator allowlist: the readout and the audit log are for "
                "operators (ask an admin to add your user id or group to OPERATOR_ALLOWLIST)."
            )
        )
    blocks += [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=INTRO)),
        SectionBlock(text=MarkdownTextObject(text=f"```{usage}```")),
    ]
    return View(type="home", blocks=blocks)
