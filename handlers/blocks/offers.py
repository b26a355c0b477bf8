"""The core's advice as text and as buttons, each button with a confirm dialog.

A button appears because the advice has a write route, never because the renderer looked at a
status. The button carries only the opaque id of the pending action stored server-side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    PlainTextObject,
)

from core.models import Advice
from handlers.blocks.format import BUTTON_TEXT, CONFIRM_TEXT, CONFIRM_TITLE, clip, esc, sections
from handlers.ids import OFFERS_BLOCK, OFFERS_BLOCK_UNTHREADED, run_action_id

#: An actions block holds at most 25 elements; an incident needs far fewer choices.
MAX_BUTTONS = 5
PREVIEW_CHARS = 700
FIX_CONNECTIVITY_FIRST = (
    "🔌 *Fix connectivity first*, then run `/restate doctor` again. "
    "No write action is offered: every write uses the same admin API path."
)
_SEE_MESSAGE = " (the full preview is in the message)"
_CONFIRM_LABEL = {
    "force-redeploy": "Register",
    "cleanup-stale-deployments": "Delete",
    "recover-stuck-workflow": "Recover",
}


@dataclass(frozen=True)
class Offer:
    """A write advice and the id of its pending action (the button's value)."""

    advice: Advice
    pending_id: str


def connectivity_blocked(advice: Sequence[Advice]) -> bool:
    """True when the core advises fixing connectivity and offers no write at all."""
    return any(a.kind == "fix-connectivity" for a in advice) and not any(a.route for a in advice)


def advice_lines(advice: Sequence[Advice]) -> list[str]:
    if not advice:
        return ["Nothing to do: doctor recommends no action."]
    lines = [
        f"• *{esc(clip(a.title, 120))}*: {esc(clip(a.preview, PREVIEW_CHARS))}" for a in advice
    ]
    return [FIX_CONNECTIVITY_FIRST, *lines] if connectivity_blocked(advice) else lines


def confirm_text(preview: str) -> str:
    """The preview within the dialog's 300 characters, saying where the rest is when cut."""
    if len(preview) <= CONFIRM_TEXT:
        return preview
    return clip(preview, CONFIRM_TEXT - len(_SEE_MESSAGE)) + _SEE_MESSAGE


def button(offer: Offer, index: int) -> ButtonElement:
    advice = offer.advice
    style = "danger" if advice.destructive else "primary"
    return ButtonElement(
        text=PlainTextObject(text=clip(advice.title, BUTTON_TEXT), emoji=True),
        action_id=run_action_id(advice.route or "none", index),
        value=offer.pending_id,
        style=style,
        confirm=ConfirmObject(
            title=PlainTextObject(text=clip(advice.title, CONFIRM_TITLE)),
            text=PlainTextObject(text=confirm_text(advice.preview), emoji=False),
            confirm=PlainTextObject(text=_CONFIRM_LABEL.get(advice.route or "", "Run it")),
            deny=PlainTextObject(text="Cancel"),
            style=style,
        ),
    )


def offer_blocks(
    advice: Sequence[Advice], offers: Sequence[Offer], *, threaded: bool
) -> list[Block]:
    """``Recommended`` with every advice, then one button per offered write (at most five)."""
    blocks = sections("Recommended", advice_lines(advice), "restate.advice")
    if offers:
        block_id = OFFERS_BLOCK if threaded else OFFERS_BLOCK_UNTHREADED
        elements = [button(offer, n) for n, offer in enumerate(offers[:MAX_BUTTONS])]
        blocks.append(ActionsBlock(elements=elements, block_id=block_id))
    return blocks


def plain_advice_lines(advice: Sequence[Advice]) -> list[str]:
    if connectivity_blocked(advice):
        return ["Fix connectivity first; no write action is offered."]
    return [f"Recommended: {a.title}" for a in advice] or ["Recommended: nothing to do."]
