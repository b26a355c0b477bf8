"""Audit attempts render as one line each (when, who, what, outcome, request id) or as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.audit import Actor, AttemptFinish, AttemptStart, AttemptView
from core.audit.chain import BrokenLink, VerifyResult
from core.audit.views import render_line, render_lines, render_verify, shown_outcome, view_json

STARTED = datetime(2026, 5, 9, 10, 7, 19, 250000, tzinfo=UTC)
START = AttemptStart(
    attempt_id="att_1",
    request_id="req_1",
    actor=Actor(id="U123", surface="slack", display_name="alice", role="operator"),
    route="cleanup-stale-deployments",
    args={"serviceUrl": "http://REDACTED@ddwf:9080/v1", "forceDrain": False},
    reason="INC-42",
    started_at="2026-05-09T10:07:19.250Z",
    context={"channel": "C1", "message_ts": "1700000000.000100"},
)
FAILED = AttemptFinish(
    attempt_id="att_1",
    request_id="req_1",
    outcome="failed",
    finished_at="2026-05-09T10:07:20.000Z",
    error_code="RESTATE_DEPLOYMENT_NOT_FOUND",
    error_message="No deployment has that service URL.",
)


def test_a_finished_attempt_is_one_line() -> None:
    """The line names time, actor, route with its arguments, outcome with error code, request id."""
    line = render_line(AttemptView(start=START, finish=FAILED), now=STARTED)
    expected = (
        "2026-05-09T10:07:19Z  U123 (alice) [operator, slack]  cleanup-stale-deployments "
        "serviceUrl=http://REDACTED@ddwf:9080/v1 forceDrain=false  "
        "failed RESTATE_DEPLOYMENT_NOT_FOUND  req_1"
    )
    assert expected == line


def test_a_preview_says_so_in_its_line() -> None:
    """A preview's line marks its route, so it never reads as the write having run."""
    start = START.model_copy(update={"phase": "preview"})
    line = render_line(AttemptView(start=start, finish=FAILED), now=STARTED)
    assert "  cleanup-stale-deployments (preview) serviceUrl=" in line


def test_a_start_without_finish_is_in_progress_then_interrupted() -> None:
    """Within the grace period an unfinished attempt may still run; after it, it was interrupted."""
    view = AttemptView(start=START)
    assert shown_outcome(view, STARTED + timedelta(minutes=4, seconds=59)) == "in-progress"
    assert shown_outcome(view, STARTED + timedelta(minutes=5)) == "interrupted"
    assert view.outcome == "interrupted"


def test_long_arguments_are_shortened() -> None:
    """An argument longer than 60 characters is cut with an ellipsis so lines stay short."""
    start = START.model_copy(update={"args": {"note": "x" * 100}})
    line = render_line(AttemptView(start=start, finish=FAILED), now=STARTED)
    assert f"note={'x' * 59}…  failed" in line


def test_no_attempts_says_so() -> None:
    """An empty audit log renders a sentence instead of nothing."""
    assert render_lines([], now=STARTED) == "No audited attempts yet."


def test_json_form_carries_every_field() -> None:
    """The JSON form has every recorded field, with camelCase names."""
    expected = {
        "attemptId": "att_1",
        "requestId": "req_1",
        "actor": {"id": "U123", "displayName": "alice", "role": "operator", "surface": "slack"},
        "route": "cleanup-stale-deployments",
        "environment": None,
        "phase": "execute",
        "args": {"serviceUrl": "http://REDACTED@ddwf:9080/v1", "forceDrain": False},
        "reason": "INC-42",
        "context": {"channel": "C1", "message_ts": "1700000000.000100"},
        "startedAt": "2026-05-09T10:07:19.250Z",
        "finishedAt": "2026-05-09T10:07:20.000Z",
        "outcome": "failed",
        "errorCode": "RESTATE_DEPLOYMENT_NOT_FOUND",
        "errorMessage": "No deployment has that service URL.",
    }
    assert expected == view_json(AttemptView(start=START, finish=FAILED), now=STARTED)


def test_verify_results_read_as_one_sentence() -> None:
    """OK states the count; a break names the entry and the reason."""
    assert (
        render_verify(VerifyResult(ok=True, count=12, trimmed=3))
        == "OK: 12 entries, chain intact (3 older entries removed by retention)."
    )
    broken = VerifyResult(
        ok=False, count=4, first_broken=BrokenLink(entry_id="1-0", reason="it was modified")
    )
    assert render_verify(broken) == "BROKEN at entry 1-0: it was modified. Checked 4 entries."
