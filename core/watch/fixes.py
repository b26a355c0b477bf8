"""The triage fixes an alert offers: bulk actions on exactly the invocations its rule counts.

Doctor's advice has no button for a paused or a long backing-off run (the operator guide's recover
refuses active runs), so these alerts offer ``core.triage``'s actions instead, each as a filter:

=============  =========================================  =================================
rule           filter                                     actions
=============  =========================================  =================================
paused         ``service=<target> status=paused``         resume (pinned or latest), kill
backing-off    ``service=<target> status=backing-off``    pause, kill
               ``olderThan=<the rule's threshold>``
=============  =========================================  =================================

A surface turns each fix into a button that opens the triage *preview* of that filter: the preview
stores the exact ids it selected, and only its Run (or, under the two-person rule, Approve) acts on
them. Nothing here runs anything: authorization, audit and the re-check of every id are triage's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.triage.names import ActionName


@dataclass(frozen=True)
class TriageFix:
    """One bulk action on the invocations an alert is about."""

    action: ActionName
    #: The triage filter, with the HTTP body's field names (``core.triage.filter``).
    filter: dict[str, Any]
    #: What the button says.
    label: str
    #: ``resume`` only: ``keep`` (the pinned deployment) or ``latest``.
    deployment: str | None = None

    @property
    def destructive(self) -> bool:
        return self.action == "kill"


def triage_fixes(rule: str, target: str, *, backing_off: timedelta) -> list[TriageFix]:
    """The fixes for an alert of ``rule`` on ``target`` (a service); none for other rules."""
    if rule == "paused":
        paused = {"service": target, "status": ["paused"]}
        return [
            TriageFix("resume", paused, f"Resume paused invocations of {target}", "keep"),
            TriageFix("resume", paused, "Resume them on the latest deployment", "latest"),
            TriageFix("kill", paused, f"Kill paused invocations of {target}"),
        ]
    if rule == "backing-off":
        seconds = max(int(backing_off.total_seconds()), 1)
        stuck = {"service": target, "status": ["backing-off"], "olderThan": f"{seconds}s"}
        return [
            TriageFix("pause", stuck, f"Pause backing-off invocations of {target}"),
            TriageFix("kill", stuck, f"Kill backing-off invocations of {target}"),
        ]
    return []
