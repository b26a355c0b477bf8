"""``/restate audit [n]``: the latest attempts, one line each (ephemeral, operators only).

With several environments each line starts with the environment it acted on (entries written
before environments existed acted on ``default``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from core.audit import AttemptView
from core.audit.views import render_line
from core.environments import environment_of
from handlers.blocks.format import Rendered, chunk_lines, esc, fallback

#: Room for the code fence in each section.
_CHUNK = 2990
#: The environment column: names are at most 32 characters, most are short.
_ENV_WIDTH = 8


def audit_line(view: AttemptView, now: datetime, several: bool = False) -> str:
    """One attempt; with ``several`` environments, its environment first (a column)."""
    line = render_line(view, now)
    return f"{environment_of(view):<{_ENV_WIDTH}}  {line}" if several else line


def audit_message(views: Sequence[AttemptView], now: datetime, several: bool = False) -> Rendered:
    """[environment ·] when · who · what · outcome · request id, newest first, monospaced."""
    lines = [audit_line(view, now, several) for view in views]
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
