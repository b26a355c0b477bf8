"""The doctor message: the verdict, then the actions; the full readout goes in the thread.

In the channel (kept short for an incident): the verdict as the header with its severity, one
line saying what is wrong, one row per recommended action with its button, and links. The first
reply in the thread (:func:`details_message`) holds the component table, deployments, services,
failures, stuck runs and every preview in full.
"""

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
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import (
    MAX_BLOCKS,
    Rendered,
    clip,
    clock,
    code,
    esc,
    fallback,
    mention,
    sections,
)
from handlers.blocks.links import Links
from handlers.blocks.offers import Offer, advice_lines, offer_blocks, plain_advice_lines
from handlers.blocks.readout import (
    components_block,
    detail_blocks,
    plain_component_lines,
)
from handlers.blocks.verdict import headline, plain_trouble_line, trouble_line
from handlers.ids import HEADER_BLOCK, SUMMARY_BLOCK


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)], block_id=block_id)


def invite_note(bot_user_id: str | None) -> str:
    who = mention(bot_user_id) if bot_user_id else "the restate-ops app"
    return (
        ":information_source: I am not a member of this channel, so follow-ups cannot be "
        f"threaded under this message. Invite me with `/invite` {who} (or channel details → "
        "Integrations → Add apps) for threaded follow-ups."
    )


def verdict_blocks(
    result: DoctorResult, links: Links, byline: str, env: EnvTag = NO_TAG
) -> list[Block]:
    """Header (environment, verdict and severity), what is wrong, and who asked / when / links."""
    report = result.report
    footer = " · ".join(
        [
            byline,
            f"checked {clock(report.checked_at)}",
            f"request {code(result.request_id)}",
            *links.footer(),
        ]
    )
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=clip(env.prefix + headline(report), 150)),
            block_id=HEADER_BLOCK,
        ),
        context(trouble_line(report), SUMMARY_BLOCK),
        context(footer),
    ]
    if result.audit_error:
        blocks.append(
            context(f"⚠️ This readout was not audited: {esc(clip(result.audit_error, 300))}")
        )
    return blocks


def doctor_message(
    result: DoctorResult,
    offers: Sequence[Offer],
    *,
    requested_by: str,
    threaded: bool,
    bot_user_id: str | None = None,
    offers_error: str | None = None,
    links: Links | None = None,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """The channel message: verdict, what is wrong, one row per action; details elsewhere."""
    links = links or Links()
    report = result.report
    blocks = verdict_blocks(result, links, f"Requested by {mention(requested_by)}", env)
    blocks.append(DividerBlock())
    blocks += offer_blocks(
        result.advice, offers, threaded=threaded, report=report, links=links, env=env
    )
    if offers_error:
        blocks.append(
            context(
                f"⚠️ Buttons are unavailable ({esc(clip(offers_error, 200))}); "
                "use the text commands, see `/restate help`."
            )
        )
    where = "in the thread 🧵" if threaded else "in the next message"
    blocks.append(context(f"Components, deployments, services and failures: {where}."))
    if not threaded:
        blocks.append(context(invite_note(bot_user_id)))
    text = fallback(
        [
            env.prefix + headline(report),
            plain_trouble_line(report),
            *plain_advice_lines(result.advice),
            f"request {result.request_id}",
        ]
    )
    return Rendered(blocks, text)


def details_message(
    result: DoctorResult, links: Links | None = None, env: EnvTag = NO_TAG
) -> Rendered:
    """The thread's first reply: the whole readout and every recommendation in full."""
    links = links or Links()
    report = result.report
    title = f"{env.prefix}Readout details · checked {clock(report.checked_at)}"
    blocks: list[Block] = [
        *sections(title, [], "restate.details"),
        components_block(report),
        *detail_blocks(report, links),
    ]
    if result.advice:
        blocks += sections("Recommended, in full", advice_lines(result.advice), "restate.advice")
    blocks.append(context(f"doctor request {code(result.request_id)}"))
    text = fallback(
        [
            f"{env.prefix}Readout details ({headline(report)})",
            *plain_component_lines(report),
            f"{len(report.deployments.items)} deployments, {len(report.services.items)} services, "
            f"{len(report.invocations.recent_failures)} recent failures, "
            f"{len(report.invocations.stuck)} stuck",
        ]
    )
    return Rendered(fit(blocks), text)


def fit(blocks: list[Block]) -> list[Block]:
    """At most Slack's 50 blocks: the last ones give way to a note (the UI has the rest)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    return [
        *kept,
        context(f"…{len(blocks) - len(kept)} more sections left out: see the Restate UI."),
    ]
