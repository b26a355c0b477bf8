"""Edits to the message whose button was clicked: lock it while running, then show the result.

``lock_blocks`` and ``finish_blocks`` work on the message's blocks as Slack sent them back in the
click's payload (plain dicts). ``after_action_message`` rebuilds the message from the readout
taken after the action: its header is that readout's verdict, a status line says which action
ran, who confirmed it and what it did, and the actions still recommended stay as buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, MarkdownTextObject, SectionBlock

from core.operations import DoctorResult
from handlers.blocks.doctor import context, verdict_blocks
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import Rendered, clip, esc, fallback, mention
from handlers.blocks.links import Links
from handlers.blocks.offers import Offer, offer_blocks, plain_advice_lines
from handlers.blocks.verdict import headline, plain_trouble_line
from handlers.ids import HEADER_BLOCK, STATUS_BLOCK, offer_kind

Blocks = list[dict[str, Any]]


def _status(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": STATUS_BLOCK,
        "text": {"type": "mrkdwn", "text": clip(text, 3000)},
    }


def lock_blocks(blocks: Sequence[dict[str, Any]], action: str, user_id: str) -> Blocks:
    """Replace every action row with ``⏳ <action> confirmed by @user``, so none runs twice."""
    kept = [
        b
        for b in blocks
        if offer_kind(b.get("block_id")) is None and b.get("block_id") != STATUS_BLOCK
    ]
    line = f"⏳ *{esc(clip(action, 150))}* confirmed by {mention(user_id)}, running…"
    return [*kept, _status(line)]


def status_line(action: str, user_id: str, *, ok: bool, result: str, threaded: bool) -> str:
    """``✅ Recover Wf/k by @u: purged 1 failed run, state cleared · details in the thread``."""
    mark = "✅" if ok else "❌"
    where = "details in the thread" if threaded else "details in the messages below"
    return f"{mark} *{esc(clip(action, 150))}* by {mention(user_id)}: {result} · {where}."


def finish_blocks(
    blocks: Sequence[dict[str, Any]],
    action: str,
    user_id: str,
    *,
    ok: bool,
    threaded: bool,
    result: str | None = None,
    env: EnvTag = NO_TAG,
) -> Blocks:
    """Without a fresh readout: mark the header ✅ or ❌ and say what ran and where to look."""
    line = status_line(
        action, user_id, ok=ok, result=result or ("done" if ok else "failed"), threaded=threaded
    )
    finished: Blocks = []
    for block in blocks:
        if block.get("block_id") == HEADER_BLOCK:
            text = header_text(action, ok, env)
            block = {**block, "text": {"type": "plain_text", "text": text}}
        if block.get("block_id") == STATUS_BLOCK:
            continue
        finished.append(block)
    return [*finished, _status(line)]


def header_text(action: str, ok: bool, env: EnvTag = NO_TAG) -> str:
    mark = "✅" if ok else "❌"
    word = "done" if ok else "failed"
    return clip(f"{env.prefix}{mark} {action}: {word}", 150)


def after_action_message(
    fresh: DoctorResult,
    offers: Sequence[Offer],
    *,
    status: str,
    threaded: bool,
    links: Links | None = None,
    offers_error: str | None = None,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """The clicked message again, from the readout after the action (``status``: what ran)."""
    links = links or Links()
    report = fresh.report
    blocks: list[Block] = [
        *verdict_blocks(fresh, links, "Readout after the action", env),
        SectionBlock(text=MarkdownTextObject(text=clip(status, 3000)), block_id=STATUS_BLOCK),
        DividerBlock(),
        *offer_blocks(fresh.advice, offers, threaded=threaded, report=report, links=links, env=env),
    ]
    if offers_error:
        blocks.append(context(f"⚠️ Buttons are unavailable ({esc(clip(offers_error, 200))})."))
    text = fallback(
        [
            env.prefix + headline(report),
            plain_trouble_line(report),
            *plain_advice_lines(fresh.advice),
        ]
    )
    return Rendered(blocks, text)
