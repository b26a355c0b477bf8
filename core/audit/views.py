"""Plain-text and JSON renderings of audit attempts for ``/restate audit`` and ``audit tail``.

One line per attempt: when, who, what, outcome, request id. Pure functions: the caller passes
``now``, which decides between "in-progress" and "interrupted" for an attempt without a finish.

The rule for a start without a finish: while it is younger than ``IN_PROGRESS_GRACE`` it may still
be running (the operation has not answered yet), so it is shown as ``in-progress``; after that the
process that ran it must have died, and it is ``interrupted``. The grace is well above the longest
operation (Restate admin calls time out in seconds), so nothing running is called interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from core.audit import AttemptView, Outcome
from core.audit.chain import VerifyResult
from core.timestamps import iso_utc

IN_PROGRESS_GRACE = timedelta(minutes=5)
ShownOutcome = Outcome | Literal["in-progress"]
_MAX_VALUE = 60


def shown_outcome(
    view: AttemptView, now: datetime, grace: timedelta = IN_PROGRESS_GRACE
) -> ShownOutcome:
    """The finish's outcome; without one, ``in-progress`` within ``grace``, else ``interrupted``."""
    if view.finish is not None:
        return view.finish.outcome
    if now - view.start.started_at < grace:
        return "in-progress"
    return "interrupted"


def render_line(view: AttemptView, now: datetime, grace: timedelta = IN_PROGRESS_GRACE) -> str:
    """``when  who  what  outcome  request-id`` for one attempt."""
    start, finish = view.start, view.finish
    when = start.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    actor = start.actor
    who = actor.id + (f" ({actor.display_name})" if actor.display_name else "")
    who += f" [{actor.role}, {actor.surface}]"
    route = f"{start.route} (preview)" if start.phase == "preview" else start.route
    what = " ".join([route, *(f"{k}={_short(v)}" for k, v in start.args.items())])
    outcome: str = shown_outcome(view, now, grace)
    if finish is not None and finish.error_code:
        outcome += f" {finish.error_code}"
    return "  ".join([when, who, what, outcome, start.request_id])


def render_lines(
    views: Iterable[AttemptView], now: datetime, grace: timedelta = IN_PROGRESS_GRACE
) -> str:
    lines = [render_line(view, now, grace) for view in views]
    return "\n".join(lines) if lines else "No audited attempts yet."


def view_json(
    view: AttemptView, now: datetime, grace: timedelta = IN_PROGRESS_GRACE
) -> dict[str, Any]:
    """One attempt as JSON, with the camelCase names of the HTTP API."""
    start, finish = view.start, view.finish
    return {
        "attemptId": start.attempt_id,
        "requestId": start.request_id,
        "actor": {
            "id": start.actor.id,
            "displayName": start.actor.display_name,
            "role": start.actor.role,
            "surface": start.actor.surface,
        },
        "route": start.route,
        "environment": start.environment,
        "phase": start.phase,
        "args": start.args,
        "reason": start.reason,
        "context": start.context,
        "startedAt": iso_utc(start.started_at),
        "finishedAt": iso_utc(finish.finished_at) if finish else None,
        "outcome": shown_outcome(view, now, grace),
        "errorCode": finish.error_code if finish else None,
        "errorMessage": finish.error_message if finish else None,
    }


def render_verify(result: VerifyResult) -> str:
    """The answer of ``restate-ops audit verify``."""
    trimmed = f" ({result.trimmed} older entries removed by retention)" if result.trimmed else ""
    if result.first_broken is None:
        return f"OK: {result.count} entries, chain intact{trimmed}."
    broken = result.first_broken
    return (
        f"BROKEN at entry {broken.entry_id}: {broken.reason}. "
        f"Checked {result.count} entries{trimmed}."
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
