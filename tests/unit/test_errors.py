"""The error tree: stable, unique codes and the seed's body shape."""

from __future__ import annotations

from core.errors import WorkflowRetryBlocked, all_error_types


def test_error_codes_are_unique() -> None:
    """No two error types share a code, so a code always names one condition."""
    codes = [cls.code for cls in all_error_types()]
    assert sorted(codes) == sorted(set(codes))


def test_seed_codes_are_present_with_their_http_classes() -> None:
    """The seed's four codes exist with the seed's HTTP classes."""
    classes = {cls.code: cls.http_status for cls in all_error_types()}
    assert classes["RESTATE_WORKFLOW_RETRY_BLOCKED"] == 409
    assert classes["RESTATE_DEPLOYMENT_NOT_FOUND"] == 404
    assert classes["OFFCHAIN_USER_PERMISSION_REQUIRED"] == 403
    assert 500 <= classes["RESTATE_ADMIN_UNREACHABLE"] < 600


def test_retry_blocked_body_matches_the_seed() -> None:
    """A blocked recovery renders the seed's code, message and data with reason and ids."""
    error = WorkflowRetryBlocked(
        "active-invocation",
        "Workflow retry is blocked by an active invocation",
        ["inv_01j8m7p2q3r4s5t6u7v8w9x0z2"],
    ).with_request_id("req_9")
    assert error.to_body() == {
        "code": "RESTATE_WORKFLOW_RETRY_BLOCKED",
        "message": "Workflow retry is blocked by an active invocation",
        "data": {
            "reason": "active-invocation",
            "invocationIds": ["inv_01j8m7p2q3r4s5t6u7v8w9x0z2"],
        },
        "requestId": "req_9",
    }
