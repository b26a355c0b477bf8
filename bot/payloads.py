"""JSON bodies shared by the HTTP routes and the CLI's ``--json``: one shape per answer."""

from __future__ import annotations

from typing import Any

from core.models import to_json_dict
from core.operations import DoctorResult


def doctor_payload(result: DoctorResult) -> dict[str, Any]:
    """The operator guide's readout, plus the advice Slack turns into buttons and audit problems."""
    return {
        **to_json_dict(result.report),
        "advice": [to_json_dict(advice) for advice in result.advice],
        "auditError": result.audit_error,
    }
