"""Operator-facing models: the doctor readout, the route bodies and the write plans.

Field names are the operator guide's. Python attributes are snake_case; JSON uses the guide's
camelCase (``latencyMs``, ``serviceUrl``, ``recentFailures`` ...) through an alias generator.
Always dump with :func:`to_json_dict`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from core.errors import InvalidInput
from core.timestamps import UtcTime

ComponentStatus = Literal["ok", "degraded", "unreachable"]
DrainState = Literal["active", "draining", "drained", "unknown"]
Route = Literal["doctor", "force-redeploy", "cleanup-stale-deployments", "recover-stuck-workflow"]
WRITE_ROUTES: frozenset[str] = frozenset(
    {"force-redeploy", "cleanup-stale-deployments", "recover-stuck-workflow"}
)

IDENTIFIER = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_RECENT_FAILURES = 20


class ApiModel(BaseModel):
    model_config = ConfigDict(
        frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """The JSON shape of a model, with the operator guide's field names."""
    return model.model_dump(mode="json", by_alias=True)


# --- doctor readout -------------------------------------------------------------------------


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


def _judged(data: dict[str, Any]) -> Verdict:
    """The verdict of a readout being validated (``data`` holds its fields, already validated)."""
    components: dict[str, IngressReadout | AdminReadout | DeploymentsReadout | ServicesReadout] = {
        name: data[name] for name in ("ingress", "admin", "deployments", "services")
    }
    invocations: InvocationsReadout = data["invocations"]
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
    #: Beyond the operator guide: computed from the readout unless given (e.g. read back).
    verdict: Verdict = Field(default_factory=_judged)


# --- route bodies -----------------------------------------------------------------------------


def require_http_url(field: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{field} must be a non-empty URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{field} must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise ValueError(f"{field} must include a host")
    return value


def _require_identifier(field: str, value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise ValueError(f"{field} must match ^[a-zA-Z0-9_-]+$")
    return value


class DoctorRequest(ApiModel):
    """doctor takes an empty JSON object."""


class ForceRedeployRequest(ApiModel):
    service_url: str
    force: StrictBool = True

    @field_validator("service_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return require_http_url("serviceUrl", value)


class ForceRedeployResponse(ApiModel):
    acknowledged: Literal[True] = True
    deployment_id: str


class CleanupRequest(ApiModel):
    service_url: str
    force_drain: StrictBool = False

    @field_validator("service_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return require_http_url("serviceUrl", value)


CleanupAction = Literal["kept", "deleted", "skipped", "failed"]


class CleanupItem(ApiModel):
    id: str
    service_url: str
    action: CleanupAction
    #: Why it was kept, skipped or failed (e.g. "draining", "latest-for-service").
    reason: str | None = None
    drain_state: DrainState = "unknown"
    pinned_invocations: int | None = None
    latest_for: list[str] = []
    error: str | None = None
    #: What changed since the preview this cleanup was confirmed from, when something did.
    changed: str | None = None


class CleanupResponse(ApiModel):
    acknowledged: Literal[True] = True
    #: Beyond the operator guide, which only logs these: one row per deployment.
    report: list[CleanupItem] = []


class RecoverRequest(ApiModel):
    service_name: str
    service_key: str

    @field_validator("service_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _require_identifier("serviceName", value)

    @field_validator("service_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _require_identifier("serviceKey", value)


class RecoverResponse(ApiModel):
    acknowledged: Literal[True] = True
    killed: list[str] = []
    purged: list[str] = []
    state_cleared: bool = False
    #: e.g. promises that outlived the purge: the next run would see them pre-resolved.
    warnings: list[str] = []


# --- write plans (core.plans): what a preview shows is exactly what the write runs ---------------


class RedeployPlan(ApiModel):
    kind: Literal["force-redeploy"] = "force-redeploy"
    service_url: str
    force: bool = True


CleanupStepAction = Literal["keep", "delete", "skip"]


class CleanupStep(ApiModel):
    """What cleanup does with one deployment, and why (the report's reasons)."""

    deployment: DeploymentItem
    action: CleanupStepAction
    reason: str


class CleanupPlan(ApiModel):
    kind: Literal["cleanup-stale-deployments"] = "cleanup-stale-deployments"
    service_url: str
    force_drain: bool = False
    #: The kept deployment first, then every other one, newest first.
    steps: list[CleanupStep]
    #: Why drain states are unknown, when the usage could not be read.
    usage_error: str | None = None

    @property
    def keep(self) -> DeploymentItem:
        return self.steps[0].deployment

    def doing(self, action: CleanupStepAction) -> list[CleanupStep]:
        return [step for step in self.steps if step.action == action]


class RecoverPlan(ApiModel):
    kind: Literal["recover-stuck-workflow"] = "recover-stuck-workflow"
    service_name: str
    service_key: str
    #: The workflow's main handler (not always ``run``).
    handler: str
    #: Terminal-failed runs to kill (a no-op when completed) and purge, newest first.
    purge: list[str] = []


Plan = Annotated[RedeployPlan | CleanupPlan | RecoverPlan, Field(discriminator="kind")]


RequestModel = TypeVar("RequestModel", bound=ApiModel)


def parse_request(model: type[RequestModel], data: Mapping[str, Any] | None) -> RequestModel:
    """Validate a route body; the first broken rule becomes :class:`InvalidInput`."""
    try:
        return model.model_validate(dict(data or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of this request"
        elif first["type"] in ("bool_type", "bool_parsing"):
            message = "must be a boolean"
        elif first["type"] == "string_type":
            message = "must be a string"
        if message.startswith(f"{field} "):
            message = message[len(field) + 1 :]
        raise InvalidInput(field, message) from exc


# --- advice -----------------------------------------------------------------------------------

AdviceKind = Literal[
    "force-redeploy",
    "cleanup-stale-deployments",
    "recover-stuck-workflow",
    "fix-connectivity",
    "inspect",
]


class Advice(ApiModel):
    """One recommended next step, derived from a doctor readout by ``core.advice``.

    Write advice carries the exact request body (``args``) the operation will receive and a
    ``preview`` that states what will change, for confirm dialogs and CLI prompts.
    """

    kind: AdviceKind
    #: The write route to run, or None for advice that is read-only (fix connectivity, inspect).
    route: Route | None = None
    title: str
    preview: str
    args: dict[str, Any] = {}
    destructive: bool = False
    #: The plan behind the preview, when it could be made: store it with the offer and pass it
    #: to ``Operations.execute`` so the write runs exactly this or says what changed.
    plan: Plan | None = Field(default=None, exclude=True)
