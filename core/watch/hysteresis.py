"""Hysteresis: a condition opens an alert only after it held for ``hold`` consecutive checks, and
an open alert resolves only after ``clear`` consecutive checks without it. Pure.

    (no state) --holds--> pending --holds x hold--> open --clear x clear--> resolved (state gone)
                          pending --clear--> (no state)      open --holds--> open (clears reset)

A rule that was unknown this check (its data could not be read) leaves its states untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from core.watch.catalog import RuleName
from core.watch.rules import Condition, Evaluation

AlertStatus = Literal["pending", "open"]


class AlertState(BaseModel):
    """One (rule, target) the watcher tracks; stored as JSON in Redis."""

    model_config = ConfigDict(frozen=True)

    rule: RuleName
    target: str
    status: AlertStatus
    count: int
    summary: str
    #: Consecutive checks the condition held (pending) or was absent (open).
    holds: int = 0
    clears: int = 0
    first_seen: AwareDatetime
    opened_at: AwareDatetime | None = None

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.target}"


@dataclass(frozen=True)
class Step:
    states: dict[str, AlertState]
    opened: list[AlertState]
    resolved: list[AlertState]


def step(
    states: Mapping[str, AlertState],
    evaluation: Evaluation,
    now: datetime,
    *,
    hold: int = 2,
    clear: int = 2,
) -> Step:
    """The states after one check, and which alerts opened or resolved in it."""
    result: dict[str, AlertState] = {}
    opened: list[AlertState] = []
    resolved: list[AlertState] = []
    for key in sorted(set(states) | set(evaluation.conditions)):
        state, condition = states.get(key), evaluation.conditions.get(key)
        if condition is not None:
            new = _held(state, condition, now, hold)
            if new.status == "open" and (state is None or state.status != "open"):
                opened.append(new)
            result[key] = new
        elif state is not None and state.rule in evaluation.unknown:
            result[key] = state
        elif state is not None and state.status == "open":
            clears = state.clears + 1
            if clears >= clear:
                resolved.append(state)
            else:
                result[key] = state.model_copy(update={"clears": clears})
        # a pending condition that went away is forgotten
    return Step(result, opened, resolved)


def _held(state: AlertState | None, condition: Condition, now: datetime, hold: int) -> AlertState:
    figures = {"count": condition.count, "summary": condition.summary, "clears": 0}
    if state is None:
        state = AlertState(
            rule=condition.rule,
            target=condition.target,
            status="pending",
            count=condition.count,
            summary=condition.summary,
            first_seen=now,
        )
    holds = state.holds + 1
    if state.status == "pending" and holds >= hold:
        opening = {"holds": holds, "status": "open", "opened_at": now}
        return state.model_copy(update={**figures, **opening})
    return state.model_copy(update={**figures, "holds": holds})
