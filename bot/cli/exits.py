"""Exit codes of the `restate-ops` CLI: one per class of outcome a script may want to branch on.

The table is printed by ``--help`` and copied in the README; the codes never change meaning.
"""

from __future__ import annotations

from enum import IntEnum

from core.errors import (
    AdminUnreachable,
    AuditUnavailable,
    DeploymentNotFound,
    InvalidInput,
    OpsError,
    PermissionRequired,
    PreviewOutdated,
    WorkflowRetryBlocked,
)


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    BLOCKED = 3
    NOT_FOUND = 4
    UNREACHABLE = 5
    DENIED = 6
    DECLINED = 7
    CHECK_FAILED = 8
    ATTENTION = 9
    INTERRUPTED = 130


EXIT_CODE_HELP: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "done (doctor: verdict ok; audit verify: chain intact)"),
    (ExitCode.ERROR, "any other error (unexpected Restate admin answer, internal error)"),
    (ExitCode.BAD_INPUT, "bad input: arguments (INVALID_INPUT) or configuration"),
    (
        ExitCode.BLOCKED,
        "blocked: RESTATE_WORKFLOW_RETRY_BLOCKED or PREVIEW_OUTDATED, nothing was changed",
    ),
    (ExitCode.NOT_FOUND, "not found: RESTATE_DEPLOYMENT_NOT_FOUND, nothing was changed"),
    (
        ExitCode.UNREACHABLE,
        "unreachable: RESTATE_ADMIN_UNREACHABLE or AUDIT_UNAVAILABLE (doctor: verdict unreachable;"
        " config check: an environment's admin API)",
    ),
    (ExitCode.DENIED, "denied: OFFCHAIN_USER_PERMISSION_REQUIRED"),
    (ExitCode.DECLINED, "declined at the confirmation prompt, nothing was changed"),
    (ExitCode.CHECK_FAILED, "audit verify found a modified, missing or deleted link"),
    (ExitCode.ATTENTION, "doctor: verdict attention or degraded, an operator should look"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)

_BY_ERROR: tuple[tuple[type[OpsError], ExitCode], ...] = (
    (InvalidInput, ExitCode.BAD_INPUT),
    (WorkflowRetryBlocked, ExitCode.BLOCKED),
    (PreviewOutdated, ExitCode.BLOCKED),
    (DeploymentNotFound, ExitCode.NOT_FOUND),
    (AdminUnreachable, ExitCode.UNREACHABLE),
    (AuditUnavailable, ExitCode.UNREACHABLE),
    (PermissionRequired, ExitCode.DENIED),
)


def exit_code_for(error: OpsError) -> ExitCode:
    for error_type, code in _BY_ERROR:
        if isinstance(error, error_type):
            return code
    return ExitCode.ERROR


def exit_code_table() -> str:
    return "\n".join(f"  {int(code):>3}  {meaning}" for code, meaning in EXIT_CODE_HELP)
