"""Small text helpers shared by the renderers: escaping, truncation, ages and Slack's limits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

#: Slack's limits (Block Kit reference) that the renderers stay under.
MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
#: chat.postMessage truncates ``text`` beyond 40,000 characters; a fallback needs far less.
FALLBACK_TEXT = 3900

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Rendered:
    """A message: Block Kit blocks plus the plain-text fallback (notifications, screen readers)."""

    blocks: list[Block]
    text: str

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


#: Slack's mrkdwn has no backslash escape for its formatting characters: in text from a server
#: (an error message, a service name) they show as look-alikes that format nothing. Inside a
#: word (``inv_1ab``, ``a*b``) they format nothing anyway and stay exact, so ids can be copied.
_LOOKALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_MARKER = re.compile(r"`|(?<![A-Za-z0-9])[*_~]|[*_~](?![A-Za-z0-9])")


def esc(text: str) -> str:
    """Server-provided text made inert in mrkdwn: ``&<>`` escaped, and ``*_~``` ` ``` that could
    open or close bold, italics, strike or code shown as look-alikes (no mention, link or
    formatting can be smuggled in)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKER.sub(lambda m: _LOOKALIKE[m.group()], escaped)


def shorten_middle(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut in the middle so its end (an id's distinct tail)
    stays readable: ``Recover Wf/invit…_x42``."""
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    if limit < 2:
        return flat[:limit]
    tail = (limit - 1) // 2
    head = limit - 1 - tail
    return f"{flat[:head]}…{flat[len(flat) - tail :]}"


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def code(text: str, limit: int = 200) -> str:
    """Inline code for user data (ids, URLs, keys): escaped, clipped, backticks neutralised."""
    flat = clip(text, limit)
    safe = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
    return f"`{safe}`"


def ident(text: str, limit: int = 80) -> str:
    """An id, key or URL as inline code, shortened in the middle (never cut at its end)."""
    return code(shorten_middle(text, limit), limit)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def parse_time(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime) or not value:
        return value or None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def ago(value: str | datetime | None, now: str | datetime | None) -> str:
    """A compact age (``42s``, ``5m``, ``3h``, ``2d``) of ``value`` at ``now``; ``?`` if unknown."""
    then, at = parse_time(value), parse_time(now)
    if then is None or at is None:
        return "?"
    seconds = max(int((at - then).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def clock(value: str | datetime | None) -> str:
    """``HH:MM:SS UTC`` of an ISO timestamp, or the raw value when it does not parse."""
    moment = parse_time(value)
    return moment.strftime("%H:%M:%S UTC") if moment else (str(value or "") or "?")


def chunk_lines(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[str]:
    """Join lines into texts of at most ``limit`` characters each (one section per text)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def sections(title: str, lines: Sequence[str], block_id: str | None = None) -> list[Block]:
    """``*title*`` and its lines as one or more sections, each within the 3,000-character limit."""
    texts = chunk_lines([f"*{title}*", *lines])
    return [
        SectionBlock(
            text=MarkdownTextObject(text=text),
            block_id=f"{block_id}.{n}" if block_id else None,
        )
        for n, text in enumerate(texts)
    ]


def fallback(lines: Iterable[str]) -> str:
    """The plain-text fallback: lines joined and cut to a length every client shows."""
    text = "\n".join(lines)
    return text if len(text) <= FALLBACK_TEXT else text[: FALLBACK_TEXT - 1] + "…"
