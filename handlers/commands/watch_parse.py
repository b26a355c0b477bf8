"""``/restate watch``, ``unwatch`` and ``snooze <rule|all> <duration>`` → typed commands. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from core.watch.catalog import RULES
from core.watch.store import ALL_RULES

_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class WatchCommand:
    action: Literal["watch", "unwatch"]


@dataclass(frozen=True)
class SnoozeCommand:
    rule: str
    duration: timedelta


def parse_duration(text: str) -> timedelta:
    """``90m``, ``1h``, ``1h30m``, ``2d``; raises ``ValueError`` for anything else."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 1h30m.")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def parse_watch(name: str, rest: list[str]) -> WatchCommand | SnoozeCommand:
    """Raise ``ValueError`` saying what is wrong; the caller adds the usage."""
    if name in ("watch", "unwatch"):
        if rest:
            raise ValueError(f"Unexpected {' '.join(rest)!r} after {name}.")
        return WatchCommand("watch" if name == "watch" else "unwatch")
    if len(rest) != 2:
        raise ValueError("snooze needs a rule (or all) and a duration, e.g. `snooze paused 1h`.")
    rule = rest[0].lower()
    if rule != ALL_RULES and rule not in RULES:
        raise ValueError(f"Unknown rule {rest[0]!r}: use one of {', '.join((*RULES, ALL_RULES))}.")
    return SnoozeCommand(rule, parse_duration(rest[1]))
