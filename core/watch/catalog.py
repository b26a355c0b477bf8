"""The watch rules as operators see them: names, titles, what to do, thresholds and defaults.

The README's Watch table is this module in words; ``core.watch.rules`` evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

RuleName = Literal[
    "component", "failures", "paused", "backing-off", "zombies", "draining", "version"
]
RULES: tuple[RuleName, ...] = get_args(RuleName)
TITLES: dict[RuleName, str] = {
    "component": "Component not ok",
    "failures": "New terminal failures",
    "paused": "Paused invocations",
    "backing-off": "Stuck backing off",
    "zombies": "Invocations pinned to a deleted deployment",
    "draining": "Stale deployment still draining",
    "version": "Restate version changed",
}

#: What an operator can do about each rule, beyond the buttons (paused and backing-off alerts
#: add triage's bulk resume, pause and kill: ``core.watch.fixes``).
HINTS: dict[RuleName, str] = {
    "component": "Fix connectivity to the component first; every write goes through the admin API.",
    "failures": "Recover the failed keys (buttons below) once the cause is fixed; the errors are "
    "in /restate doctor.",
    "paused": "Still active, so recover refuses it: fix the cause, then resume them (each button "
    "previews the exact invocations first), or kill them; the failure alert then offers recover.",
    "backing-off": "Still retrying, so recover refuses it: fix the cause (the error is in "
    "/restate doctor), or pause them to resume once fixed, or kill them.",
    "zombies": "Their deployment was deleted (RT0011): register its URL again, or pause them and "
    "resume them on the latest deployment (Restate 1.6+).",
    "draining": "Old code still runs these invocations: let them finish, then clean up the "
    "deployment (force-drain deletes it anyway).",
    "version": "Check the release notes, then run /restate doctor.",
}


@dataclass(frozen=True)
class Thresholds:
    """When each rule holds. The defaults are the README's."""

    failure_window: timedelta = timedelta(minutes=15)
    failures_min: int = 1
    paused_min: int = 1
    backing_off: timedelta = timedelta(minutes=10)
    zombies_min: int = 1
    draining: timedelta = timedelta(minutes=60)

    def describe(self) -> dict[RuleName, str]:
        """Each rule's threshold in words, for ``/restate watch`` and the README."""
        return {
            "component": "any doctor component not ok",
            "failures": f"≥ {self.failures_min} terminal failures per service in "
            f"{minutes(self.failure_window)}",
            "paused": f"≥ {self.paused_min} paused invocations per service",
            "backing-off": f"an invocation backing off for over {minutes(self.backing_off)}",
            "zombies": f"≥ {self.zombies_min} invocations pinned to an unregistered deployment",
            "draining": f"a stale deployment still draining after {minutes(self.draining)}",
            "version": f"the Restate version changed (shown for {minutes(self.failure_window)})",
        }


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def minutes(span: timedelta) -> str:
    """``15 min``."""
    minutes = span.total_seconds() / 60
    return f"{minutes:g} min"
