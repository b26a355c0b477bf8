"""``/restate audit [n]``: the latest attempts, one line each (ephemeral, operators only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from core.audit import AttemptView
from core.audit.views import render_line
from handlers.blocks.format import Rendered, chunk_lines, esc, fallback

#: Room for the code fence in each section.
_CHUNK = 2990


def audit_message(views: Sequence[AttemptView], now: datetime) -> Rendered:
    """when · who · what · outcome · request id, newest first, as monospaced lines."""
    lines = [render_line(view, now) for view in views]
    heading = f"*Latest {len(lines)} audited attempt{'s' if len(lines) != 1 else ''}*"
    if not lines:
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text="No audited attempts yet."))
        ]
        return Rendered(blocks, "No audited attempts yet.")
    blocks = [SectionBlock(text=MarkdownTextObject(text=heading))]
    for chunk in chunk_lines([esc(line) for line in lines], _CHUNK - 6):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"```{chunk}```")))
    return Rendered(blocks, fallback(lines))
