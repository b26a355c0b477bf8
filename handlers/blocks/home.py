"""The App Home tab: the current verdict, the last audited actions, and the help.

Operators see the verdict of a fresh doctor readout (with what is wrong and links) and the last
ten audited write attempts; everyone sees the help. With several environments there is one
section per environment, named by its badge: its verdict for its operators, else a note. Pure:
view data in, a ``home`` view out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
from core.operations import DoctorResult
from handlers.blocks.audit import audit_line
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import chunk_lines, clock, code, esc
from handlers.blocks.help import INTRO
from handlers.blocks.links import Links
from handlers.blocks.verdict import headline, trouble_line

MAX_ACTIONS = 10
NOT_AN_OPERATOR = (
    "You are not on the operator allowlist: the readout and the audit log are for "
    "operators (ask an admin to add your user id or group to OPERATOR_ALLOWLIST)."
)
NOT_AN_OPERATOR_ANYWHERE = (
    "You are not on any environment's operator allowlist: the readouts and the audit log are "
    "for operators (ask an admin to add your user id or group to an environment's "
    "operator_allowlist)."
)


@dataclass(frozen=True)
class HomeReadout:
    """One environment's part of the Home tab."""

    env: EnvTag = NO_TAG
    #: The reader may operate here (and so sees its readout).
    operator: bool = False
    result: DoctorResult | None = None
    #: Why the readout is missing (e.g. Redis down).
    problem: str | None = None
    links: Links = field(default_factory=Links)


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


def _section(readout: HomeReadout, several: bool) -> list[Block]:
    blocks: list[Block] = []
    if several:
        badge = readout.env.badge or readout.env.name
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{esc(badge)}*")))
    if readout.result is not None:
        blocks += _verdict(readout.result, readout.links)
    elif readout.problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠️ {esc(readout.problem)}")))
    elif several and not readout.operator:
        blocks.append(_context("You are not on this environment's operator allowlist."))
    return blocks


def _actions(views: Sequence[AttemptView], now: datetime, several: bool) -> list[Block]:
    if not views:
        return [SectionBlock(text=MarkdownTextObject(text="No audited actions yet."))]
    lines = [esc(audit_line(view, now, several)) for view in views[:MAX_ACTIONS]]
    return [
        SectionBlock(text=MarkdownTextObject(text=f"```{chunk}```"))
        for chunk in chunk_lines(lines, 2990)
    ]


def home_view(
    *,
    usage: str,
    now: datetime,
    readouts: Sequence[HomeReadout],
    actions: Sequence[AttemptView] = (),
    actions_problem: str | None = None,
) -> View:
    """The Home tab: one part per environment (``readouts``), then the last actions (or why
    they could not be read) and the help."""
    several = len(readouts) > 1
    operator = any(readout.operator for readout in readouts)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="restate-ops"))]
    if operator:
        for readout in readouts:
            blocks += _section(readout, several)
        blocks += [
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text=f"*Last {MAX_ACTIONS} audited actions*")),
        ]
        blocks += (
            [SectionBlock(text=MarkdownTextObject(text=f"⚠️ {esc(actions_problem)}"))]
            if actions_problem
            else _actions(actions, now, several)
        )
    else:
        blocks.append(_context(NOT_AN_OPERATOR_ANYWHERE if several else NOT_AN_OPERATOR))
    blocks += [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=INTRO)),
        SectionBlock(text=MarkdownTextObject(text=f"```{usage}```")),
    ]
    return View(type="home", blocks=blocks)
