"""The doctor message posted into the channel: readout, recommended actions and their buttons."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
)

from core.operations import DoctorResult
from handlers.blocks.format import Rendered, clip, clock, code, esc, fallback, mention
from handlers.blocks.offers import Offer, offer_blocks, plain_advice_lines
from handlers.blocks.readout import (
    components_block,
    detail_blocks,
    overall_phrase,
    plain_component_lines,
)
from handlers.ids import HEADER_BLOCK


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)], block_id=block_id)


def invite_note(bot_user_id: str | None) -> str:
    who = mention(bot_user_id) if bot_user_id else "the restate-ops app"
    return (
        ":information_source: I am not a member of this channel, so follow-ups cannot be "
        f"threaded under this message. Invite me with `/invite` {who} (or channel details → "
        "Integrations → Add apps) for threaded follow-ups."
    )


def doctor_message(
    result: DoctorResult,
    offers: Sequence[Offer],
    *,
    requested_by: str,
    threaded: bool,
    bot_user_id: str | None = None,
    offers_error: str | None = None,
) -> Rendered:
    """The readout for everyone in the incident channel, with one button per offered write."""
    report = result.report
    headline = f"🩺 Restate doctor: {overall_phrase(report)}"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(headline, 150)), block_id=HEADER_BLOCK),
        context(
            f"Requested by {mention(requested_by)} · checked {clock(report.checked_at)} · "
            f"request {code(result.request_id)}"
        ),
    ]
    if result.audit_error:
        blocks.append(
            context(f"⚠️ This readout was not audited: {esc(clip(result.audit_error, 300))}")
        )
    blocks += [components_block(report), DividerBlock(), *detail_blocks(report), DividerBlock()]
    blocks += offer_blocks(result.advice, offers, threaded=threaded)
    if offers_error:
        blocks.append(
            context(
                f"⚠️ Buttons are unavailable ({esc(clip(offers_error, 200))}); "
                "use the text commands, see `/restate help`."
            )
        )
    if not threaded:
        blocks.append(context(invite_note(bot_user_id)))
    inv = report.invocations
    text = fallback(
        [
            headline,
            *plain_component_lines(report),
            f"{len(report.deployments.items)} deployments, {len(report.services.items)} services, "
            f"{len(inv.recent_failures)} recent failures, {len(inv.stuck)} stuck",
            *plain_advice_lines(result.advice),
            f"request {result.request_id}",
        ]
    )
    return Rendered(blocks, text)
