"""The doctor readout, with the operator guide's field names, and its overall verdict."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import computed_field, model_validator

from core.models.base import ApiModel, ComponentStatus, DrainState
from core.timestamps import UtcTime


class IngressReadout(ApiModel):
    status: ComponentStatus
    latency_ms: int | None = None
    error: str | None = None


class AdminReadout(ApiModel):
    status: ComponentStatus
    latency_ms: int | None = None
    version: str | None = None
    error: str | None = None


class DeploymentItem(ApiModel):
    id: str
    service_url: str
    created_at: UtcTime | None = None
    # Beyond the operator guide: what operators look for first when cleaning up.
    drain_state: DrainState = "unknown"
    #: Active invocations pinned to this deployment (None when the count failed).
    pinned_invocations: int | None = None
    #: Services whose latest revision lives on this deployment.
    latest_for: list[str] = []


class DeploymentsReadout(ApiModel):
    status: ComponentStatus
    items: list[DeploymentItem] = []
    error: str | None = None


class ServiceItem(ApiModel):
    name: str
    revision: int | None = None
    type: str | None = None
    deployment_id: str | None = None


class ServicesReadout(ApiModel):
    status: ComponentStatus
    items: list[ServiceItem] = []
    error: str | None = None


class FailureItem(ApiModel):
    id: str
    service_name: str
    service_key: str | None = None
    handler: str | None = None
    failed_at: UtcTime | None = None
    error_message: str | None = None


class StuckItem(ApiModel):
    """An invocation that keeps retrying (``backing-off``) or gave up retrying (``paused``)."""

    id: str
    service_name: str
    service_key: str | None = None
    handler: str | None = None
    status: str
    retry_count: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    modified_at: UtcTime | None = None


InvocationPart = Literal["byStatus", "recentFailures", "stuck"]


class InvocationsReadout(ApiModel):
    status: ComponentStatus
    by_status: dict[str, int] = {}
    recent_failures: list[FailureItem] = []
    stuck: list[StuckItem] = []
    error: str | None = None
    #: The parts that could not be read: their empty value means "unknown", not "none".
    unknown: list[InvocationPart] = []


VerdictStatus = Literal["ok", "attention", "degraded", "unreachable"]


class Verdict(ApiModel):
    """The readout in one word and one line, counting failures and stuck runs.

    ``unreachable``: the admin API path is down, no write can work. ``degraded``: a component is
    not ok. ``attention``: every component is ok but workflows failed or are stuck. ``ok``: none
    of that. A count is None when it could not be read: unknown, never 0.
    """

    status: VerdictStatus
    summary: str
    failures: int | None
    stuck: int | None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _judged(report: DoctorReport) -> Verdict:
    """The verdict of ``report``, from its component statuses and its invocation lists."""
    components: dict[str, IngressReadout | AdminReadout | DeploymentsReadout | ServicesReadout] = {
        "ingress": report.ingress,
        "admin": report.admin,
        "deployments": report.deployments,
        "services": report.services,
    }
    invocations = report.invocations
    unknown = set(invocations.unknown) if invocations.status != "unreachable" else {"*"}
    failures = None if unknown & {"*", "recentFailures"} else len(invocations.recent_failures)
    stuck = None if unknown & {"*", "stuck"} else len(invocations.stuck)
    statuses = {**{n: c.status for n, c in components.items()}, "invocations": invocations.status}
    admin_path = ("admin", "deployments", "services")
    trouble = [f"{name} {status}" for name, status in statuses.items() if status != "ok"]
    counted = [
        _plural(failures, "failed run") if failures else "",
        _plural(stuck, "stuck run") if stuck else "",
    ]
    unknown_counts = [n for n, c in (("failures", failures), ("stuck runs", stuck)) if c is None]
    found = ", ".join(part for part in counted if part)
    if any(statuses[name] == "unreachable" for name in admin_path):
        status: VerdictStatus = "unreachable"
        summary = f"Restate admin API unreachable ({', '.join(trouble)}): fix connectivity first"
    elif trouble:
        status = "degraded"
        summary = f"{', '.join(trouble)}" + (f"; {found}" if found else "")
    elif found:
        status, summary = "attention", f"all components ok; {found} need attention"
    else:
        status, summary = "ok", "all components ok; no failed or stuck runs"
    if unknown_counts and status != "unreachable":
        summary += f"; {' and '.join(unknown_counts)} unknown"
    return Verdict(status=status, summary=summary, failures=failures, stuck=stuck)


class DoctorReport(ApiModel):
    ingress: IngressReadout
    admin: AdminReadout
    deployments: DeploymentsReadout
    services: ServicesReadout
    invocations: InvocationsReadout
    checked_at: UtcTime

    @model_validator(mode="before")
    @classmethod
    def _verdict_is_derived(cls, data: Any) -> Any:
        """A readout read back (e.g. a stored offer's baseline) judges itself again."""
        if isinstance(data, dict) and "verdict" in data:
            return {key: value for key, value in data.items() if key != "verdict"}
        return data

    @computed_field  # type: ignore[prop-decorator]  # mypy does not see through computed_field
    @property
    def verdict(self) -> Verdict:
        """Beyond the operator guide: the readout in one word, always derived from its fields
        (so a copy with other components can never carry a stale verdict)."""
        return _judged(self)
