"""``/restate help``: every subcommand with its usage (ephemeral)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from handlers.blocks.format import Rendered

INTRO = (
    "*restate-ops* inspects and recovers workflows on Restate. Run `doctor` first, act once, "
    "then read the verify readout. Writes are offered as buttons with a confirm dialog and are "
    "limited to the operator allowlist; every attempt is audited."
)


def help_message(usage: str) -> Rendered:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=INTRO)),
        SectionBlock(text=MarkdownTextObject(text=f"```{usage}```")),
    ]
    return Rendered(blocks, f"restate-ops usage:\n{usage}")
