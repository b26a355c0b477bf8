"""A write typed as text (``/restate recover …``): the same preview, with a confirm button."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock, PlainTextObject

from core.models import Advice
from core.operations import DoctorResult
from handlers.blocks.doctor import context, invite_note
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import (
    Rendered,
    clip,
    code,
    esc,
    fallback,
    mention,
    sections,
)
from handlers.blocks.offers import FIX_CONNECTIVITY_FIRST, Offer, button, second_operator_note
from handlers.blocks.readout import component_lines, plain_component_lines
from handlers.ids import HEADER_BLOCK, offer_block_id


def preview_message(
    advice: Advice,
    result: DoctorResult,
    offer: Offer | None,
    *,
    requested_by: str,
    reason: str | None,
    threaded: bool,
    bot_user_id: str | None = None,
    blocked: bool = False,
    offers_error: str | None = None,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """What will change, the components right now, and one button (none when ``blocked``)."""
    title = f"🛠 Confirm: {advice.title}"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=env.title(title, 150)), block_id=HEADER_BLOCK),
        context(f"Requested by {mention(requested_by)} · doctor request {code(result.request_id)}"),
        *sections("What will change", [esc(advice.preview)], "restate.preview"),
    ]
    if reason:
        blocks += sections("Reason", [esc(clip(reason, 1000))], "restate.reason")
    blocks += [DividerBlock(), *sections("Doctor now", component_lines(result.report))]
    if blocked:
        blocks += sections("Not offered", [FIX_CONNECTIVITY_FIRST], "restate.blocked")
    elif offer is not None:
        block_id = offer_block_id(threaded, 0)
        if advice.needs_approval:
            blocks.append(context(second_operator_note(requested_by)))
        blocks.append(ActionsBlock(elements=[button(offer, 0, env)], block_id=block_id))
    if offers_error:
        blocks.append(context(f"⚠️ The button is unavailable: {esc(clip(offers_error, 200))}"))
    if not threaded:
        blocks.append(context(invite_note(bot_user_id)))
    text = fallback(
        [
            f"{env.prefix}Confirm: {advice.title}",
            advice.preview,
            *plain_component_lines(result.report),
            "Fix connectivity first; nothing is offered." if blocked else "",
        ]
    )
    return Rendered(blocks, text)
