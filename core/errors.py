"""The one error tree of restate-ops.

Every error a user can see carries a stable ``code`` (the operator guide's codes are never
renamed), a ``message`` that says what to do next, structured ``data`` and the ``request_id`` of
the attempt.

    OpsError                              code                                 http
    ├── InvalidInput                      INVALID_INPUT                        422 (400: no JSON)
    ├── Unauthenticated                   UNAUTHENTICATED                      401
    ├── PermissionRequired                OFFCHAIN_USER_PERMISSION_REQUIRED    403
    │   └── SelfApprovalRefused           SELF_APPROVAL_REFUSED                403
    ├── AdminUnreachable                  RESTATE_ADMIN_UNREACHABLE            503
    ├── AdminRequestFailed                RESTATE_ADMIN_REQUEST_FAILED         502
    ├── DeploymentNotFound                RESTATE_DEPLOYMENT_NOT_FOUND         404
    ├── WorkflowRetryBlocked              RESTATE_WORKFLOW_RETRY_BLOCKED       409
    ├── PreviewOutdated                   PREVIEW_OUTDATED                     409
    ├── AuditUnavailable                  AUDIT_UNAVAILABLE                    503
    ├── PendingActionUnavailable          PENDING_ACTION_UNAVAILABLE           410
    ├── WatchUnavailable                  WATCH_UNAVAILABLE                    503
    ├── WatchNotConfigured                WATCH_NOT_CONFIGURED                 503
    └── ApprovalRequired                  APPROVAL_REQUIRED                    409

Lower-level errors (httpx, redis) are translated at the edge with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from core.redact import redact_outgoing, redact_text

RetryBlockedReason = Literal[
    "active-invocation", "already-succeeded", "purge-failed", "query-failed"
]


class OpsError(Exception):
    """Base of every error restate-ops reports to a user."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    #: What the operator should do next; shown under the message on every surface.
    next_step: ClassVar[str] = "Retry; if it fails again, report the request id."

    def __init__(self, message: str, *, data: Mapping[str, Any] | None = None) -> None:
        # Messages are built from URLs and Restate's own texts, which carry a deployment URI's
        # password: redacted once here, so no surface can show it (each redacts again anyway).
        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = redact_outgoing(dict(data or {}))
        self.request_id: str | None = None

    def with_request_id(self, request_id: str) -> OpsError:
        self.request_id = request_id
        return self

    def to_body(self) -> dict[str, Any]:
        """The operator guide's error body: ``{"code", "message", "data"}`` plus the request id."""
        return {
            "code": self.code,
            "message": self.message,
            "data": self.data or None,
            "requestId": self.request_id,
        }


class InvalidInput(OpsError):
    """A request field broke a rule; nothing was sent to Restate."""

    code = "INVALID_INPUT"
    http_status = 422
    next_step = "Correct the field and send the request again."

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", data={"field": field, "rule": rule})
        self.field = field
        self.rule = rule


class Unauthenticated(OpsError):
    """The HTTP request carried no API key, or one that is not configured."""

    code = "UNAUTHENTICATED"
    http_status = 401
    next_step = "Send an operator API key in the X-Api-Key header."


class PermissionRequired(OpsError):
    """The caller is authenticated but lacks system operate permission."""

    code = "OFFCHAIN_USER_PERMISSION_REQUIRED"
    http_status = 403
    next_step = "Use an operator account or API key with system operate permission."


class AdminUnreachable(OpsError):
    """The admin URL is not configured, does not resolve, or the admin API did not answer."""

    code = "RESTATE_ADMIN_UNREACHABLE"
    http_status = 503
    next_step = (
        "Check the admin URL configuration, DNS, network policy and admin API health, "
        "then run doctor again."
    )


class AdminRequestFailed(OpsError):
    """The admin API answered with an error status; its status and message are kept."""

    code = "RESTATE_ADMIN_REQUEST_FAILED"
    http_status = 502
    next_step = "Read the Restate message below, check the admin logs, then run doctor again."

    def __init__(self, method: str, path: str, status: int, restate_message: str) -> None:
        super().__init__(
            f"Restate admin API {method} {path} answered {status}: {restate_message}",
            data={"status": status, "restateMessage": restate_message, "path": path},
        )
        self.status = status
        self.restate_message = restate_message


class DeploymentNotFound(OpsError):
    """No registered deployment has the supplied service URL."""

    code = "RESTATE_DEPLOYMENT_NOT_FOUND"
    http_status = 404
    next_step = "Run doctor and retry with the exact deployments.items[].serviceUrl."


class WorkflowRetryBlocked(OpsError):
    """Clearing the workflow key would be unsafe or unnecessary."""

    code = "RESTATE_WORKFLOW_RETRY_BLOCKED"
    http_status = 409
    next_step = "Inspect the reason and invocation ids before deciding to retry later."

    _NEXT_STEPS: ClassVar[dict[str, str]] = {
        "active-invocation": (
            "Wait for the active invocation to finish, or handle it with the Restate admin tooling "
            "(kill a paused or backing-off run), then retry."
        ),
        "already-succeeded": (
            "Do not replay blindly: find out why the caller still reports a stuck workflow."
        ),
        "purge-failed": "Inspect the Restate admin logs; retry after the purge failure is fixed.",
        "query-failed": "Escalate the unexpected admin response; retry when the query path works.",
    }

    def __init__(self, reason: RetryBlockedReason, message: str, invocation_ids: list[str]) -> None:
        super().__init__(message, data={"reason": reason, "invocationIds": invocation_ids})
        self.reason: RetryBlockedReason = reason
        self.invocation_ids = invocation_ids

    @property
    def advice(self) -> str:
        return self._NEXT_STEPS[self.reason]


class PreviewOutdated(OpsError):
    """The world changed since the preview in a way no step can absorb; nothing was changed."""

    code = "PREVIEW_OUTDATED"
    http_status = 409
    next_step = "Nothing was changed. Preview the write again (or run doctor) and confirm anew."

    def __init__(self, message: str, changes: list[str]) -> None:
        super().__init__(message, data={"changes": changes})
        self.changes = changes


class AuditUnavailable(OpsError):
    """The audit stream could not record the start of a write; the write was refused."""

    code = "AUDIT_UNAVAILABLE"
    http_status = 503
    next_step = "Nothing was changed. Restore the audit store (Redis), then try again."


class PendingActionUnavailable(OpsError):
    """A Slack button refers to an action that expired or was already used."""

    code = "PENDING_ACTION_UNAVAILABLE"
    http_status = 410
    next_step = "Run /restate doctor again to get fresh buttons."


class WatchUnavailable(OpsError):
    """Redis did not answer a watch command (watch, unwatch, snooze); nothing changed."""

    code = "WATCH_UNAVAILABLE"
    http_status = 503
    next_step = "Check Redis (REDIS_URL), then try again."


class WatchNotConfigured(OpsError):
    """A watch command reached a bot that does not watch (``WATCH_INTERVAL_S=0``)."""

    code = "WATCH_NOT_CONFIGURED"
    http_status = 503
    next_step = "Set WATCH_INTERVAL_S to a positive number of seconds and restart the bot."


class ApprovalRequired(OpsError):
    """A bulk action under the two-person rule has no (or no longer a valid) second approval."""

    code = "APPROVAL_REQUIRED"
    http_status = 409
    next_step = "Ask a second operator to approve the action, then run it."


class SelfApprovalRefused(PermissionRequired):
    """The requester of a bulk action tried to approve it: the two-person rule forbids it."""

    code = "SELF_APPROVAL_REFUSED"
    http_status = 403
    next_step = "Another operator must approve this action."


def all_error_types() -> list[type[OpsError]]:
    """Every concrete error type, for the uniqueness test and documentation."""
    seen: list[type[OpsError]] = [OpsError]
    stack = list(OpsError.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
