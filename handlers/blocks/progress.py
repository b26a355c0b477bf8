"""Edits to the message whose button was clicked: lock it while running, then mark the result.

These work on the message's blocks as Slack sent them back in the click's payload (plain dicts),
so everything else in the readout stays exactly as people saw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.blocks.format import clip, esc, mention
from handlers.ids import HEADER_BLOCK, OFFERS_BLOCK, OFFERS_BLOCK_UNTHREADED, STATUS_BLOCK

Blocks = list[dict[str, Any]]
_OFFERS = (OFFERS_BLOCK, OFFERS_BLOCK_UNTHREADED)


def _status(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": STATUS_BLOCK,
        "text": {"type": "mrkdwn", "text": clip(text, 3000)},
    }


def lock_blocks(blocks: Sequence[dict[str, Any]], action: str, user_id: str) -> Blocks:
    """Replace every offer button with ``⏳ <action> confirmed by @user``, so none runs twice."""
    kept = [b for b in blocks if b.get("block_id") not in (*_OFFERS, STATUS_BLOCK)]
    line = f"⏳ *{esc(clip(action, 150))}* confirmed by {mention(user_id)}, running…"
    return [*kept, _status(line)]


def finish_blocks(
    blocks: Sequence[dict[str, Any]], action: str, user_id: str, *, ok: bool, threaded: bool
) -> Blocks:
    """Mark the header ✅ or ❌ and say where the outcome was posted."""
    mark = "✅" if ok else "❌"
    word = "done" if ok else "failed"
    where = "see the thread" if threaded else "see the messages below"
    line = f"{mark} *{esc(clip(action, 150))}* {word} (confirmed by {mention(user_id)}); {where}."
    finished: Blocks = []
    for block in blocks:
        if block.get("block_id") == HEADER_BLOCK:
            block = {**block, "text": {"type": "plain_text", "text": header_text(action, ok)}}
        if block.get("block_id") == STATUS_BLOCK:
            continue
        finished.append(block)
    return [*finished, _status(line)]


def header_text(action: str, ok: bool) -> str:
    mark = "✅" if ok else "❌"
    word = "done" if ok else "failed"
    return clip(f"{mark} {action}: {word}", 150)
