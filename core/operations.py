"""The use cases every surface calls: authorize, audit, run one operation, audit the outcome.

Slack, the HTTP routes and the CLI all go through :class:`Operations`, so the four operations get
the same checks and the same audit whatever the surface:

* the actor's role must be ``operator`` (the seed's system operate permission), else ``denied``;
* the arguments are validated before anything is sent to Restate (``InvalidInput``);
* a write records its audit start **before** it touches Restate and is refused when that fails
  (fail closed); doctor is read-only and still answers, saying the audit is unavailable;
* every error leaves with the attempt's request id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from core.advice import advise, cleanup_advice, newest, recover_advice, redeploy_advice
from core.audit import Actor, AttemptFinish, AttemptStart, AuditLog, Outcome
from core.authz import can_operate
from core.cleanup import same_url
from core.doctor import run_doctor
from core.errors import (
    AdminUnreachable,
    AuditUnavailable,
    DeploymentNotFound,
    InvalidInput,
    OpsError,
    PermissionRequired,
    Unauthenticated,
    WorkflowRetryBlocked,
)
from core.ids import new_id, new_request_id
from core.models import (
    Advice,
    ApiModel,
    CleanupRequest,
    CleanupResponse,
    DoctorReport,
    ForceRedeployRequest,
    ForceRedeployResponse,
    RecoverRequest,
    RecoverResponse,
    Route,
    parse_request,
)
from core.recovery import cleanup_stale_deployments, force_redeploy, recover_stuck_workflow
from core.redact import sanitize
from core.restate.client import RestateAdminClient, RestateIngressClient

log = logging.getLogger(__name__)

WriteResponse = ForceRedeployResponse | CleanupResponse | RecoverResponse


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, as the seed's timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Attempt:
    """One try of one operation by one actor, as the surfaces describe it."""

    actor: Actor
    reason: str | None = None
    #: Where it happened (Slack channel and message ts), recorded in the audit entry.
    context: Mapping[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=new_request_id)


@dataclass(frozen=True)
class DoctorResult:
    report: DoctorReport
    advice: list[Advice]
    request_id: str
    #: Why the attempt could not be audited; None when it was.
    audit_error: str | None = None


@dataclass(frozen=True)
class WriteResult:
    route: Route
    request_id: str
    response: WriteResponse
    #: False when the finish entry never reached the audit stream (logged loudly).
    audit_complete: bool = True


@dataclass(frozen=True)
class _WriteRoute:
    request_model: type[ApiModel]
    run: Callable[[RestateAdminClient, Any], Awaitable[WriteResponse]]


_WRITE_ROUTES: dict[str, _WriteRoute] = {
    "force-redeploy": _WriteRoute(ForceRedeployRequest, force_redeploy),
    "cleanup-stale-deployments": _WriteRoute(CleanupRequest, cleanup_stale_deployments),
    "recover-stuck-workflow": _WriteRoute(RecoverRequest, recover_stuck_workflow),
}


def outcome_of(error: BaseException) -> Outcome:
    if isinstance(error, PermissionRequired | Unauthenticated):
        return "denied"
    if isinstance(error, WorkflowRetryBlocked):
        return "blocked"
    return "failed"


class Operations:
    """doctor and the three write routes, with authorization and audit around each."""

    def __init__(
        self,
        *,
        admin: RestateAdminClient | None,
        ingress: RestateIngressClient | None,
        audit: AuditLog,
        live_service_url: str | None = None,
        probe_timeout_s: float = 5.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._admin = admin
        self._ingress = ingress
        self._audit = audit
        self._live_service_url = live_service_url
        self._probe_timeout_s = probe_timeout_s
        self._now = now

    @property
    def live_service_url(self) -> str | None:
        return self._live_service_url

    async def doctor(self, attempt: Attempt) -> DoctorResult:
        """Read-only health readout plus advice. Answers even when the audit store is down."""
        start = self._start(attempt, "doctor", {})
        audit_error: str | None = None
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            audit_error = exc.message
            log.error("audit unavailable for doctor %s: %s", attempt.request_id, exc.message)
        try:
            self._authorize(attempt)
            report = await run_doctor(
                self._admin, self._ingress, now=self._now, probe_timeout_s=self._probe_timeout_s
            )
        except OpsError as exc:
            if audit_error is None:
                await self._finish(start, outcome_of(exc), exc)
            exc.with_request_id(attempt.request_id)
            raise
        if audit_error is None:
            await self._finish(start, "succeeded", None)
        advice = advise(report, live_service_url=self._live_service_url)
        return DoctorResult(report, advice, attempt.request_id, audit_error)

    async def execute(self, attempt: Attempt, route: Route, args: Mapping[str, Any]) -> WriteResult:
        """Run one write route with raw arguments (a route body, or parsed command text)."""
        spec, start, request = await self._admit(attempt, route, args)
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            exc.with_request_id(attempt.request_id)
            raise
        try:
            if self._admin is None:
                raise AdminUnreachable("No Restate admin URL is configured (RESTATE_ADMIN_URL).")
            response = await spec.run(self._admin, request)
        except OpsError as exc:
            await self._finish(start, outcome_of(exc), exc)
            exc.with_request_id(attempt.request_id)
            raise
        except Exception as exc:
            await self._finish(start, "failed", exc)
            raise
        complete = await self._finish(start, "succeeded", None)
        return WriteResult(route, attempt.request_id, response, complete)

    async def authorize(self, attempt: Attempt, route: Route) -> None:
        """Refuse (and audit) an actor without operate permission, before a surface spends
        anything on the attempt, e.g. before a Slack click consumes its one-time button."""
        try:
            self._authorize(attempt)
        except PermissionRequired as exc:
            await self.refuse(attempt, route, {}, exc)

    async def refuse(
        self, attempt: Attempt, route: Route, args: Mapping[str, Any], error: OpsError
    ) -> NoReturn:
        """Audit and raise a refusal a surface decides before the operation can start.

        For what only the surface can see: no API key (401), a body that is not JSON. Nothing
        changes, so a broken audit store is logged and does not hide the real answer.
        """
        await self._record_refusal(self._start(attempt, route, args), error)
        error.with_request_id(attempt.request_id)
        raise error

    async def preview(self, attempt: Attempt, route: Route, args: Mapping[str, Any]) -> Advice:
        """What a write would change, in the words of doctor's advice, before anyone confirms.

        Validates and authorizes like :meth:`execute` (a refusal is audited), but changes nothing.
        Cleanup reads the current deployments so the preview names what is deleted and skipped.
        """
        _, _, request = await self._admit(attempt, route, args)
        try:
            return await self._preview(request)
        except OpsError as exc:
            exc.with_request_id(attempt.request_id)
            raise

    async def _preview(self, request: ApiModel) -> Advice:
        if isinstance(request, ForceRedeployRequest):
            return redeploy_advice(request.service_url, force=request.force)
        if isinstance(request, RecoverRequest):
            return recover_advice(request.service_name, request.service_key)
        if not isinstance(request, CleanupRequest):
            raise TypeError(f"no preview for {type(request).__name__}")
        report = await run_doctor(
            self._admin, None, now=self._now, probe_timeout_s=self._probe_timeout_s
        )
        if report.deployments.status == "unreachable":
            raise AdminUnreachable(
                report.deployments.error or "The deployment list is unreachable."
            )
        items = report.deployments.items
        matches = [d for d in items if same_url(d.service_url, request.service_url)]
        if not matches:
            raise DeploymentNotFound(
                f"No registered deployment has the service URL {request.service_url}.",
                data={"serviceUrl": request.service_url},
            )
        return cleanup_advice(items, newest(matches), force_drain=request.force_drain)

    # --- helpers -------------------------------------------------------------------------

    async def _admit(
        self, attempt: Attempt, route: Route, args: Mapping[str, Any]
    ) -> tuple[_WriteRoute, AttemptStart, ApiModel]:
        """Authorize and validate a write; a refusal is audited and raised with the request id."""
        spec = _WRITE_ROUTES.get(route)
        if spec is None:
            raise InvalidInput("route", f"must be one of {', '.join(sorted(_WRITE_ROUTES))}")
        start = self._start(attempt, route, args)
        try:
            self._authorize(attempt)
            request = parse_request(spec.request_model, args)
        except (PermissionRequired, InvalidInput) as exc:
            # Nothing will change, so a broken audit store must not hide the real answer.
            await self._record_refusal(start, exc)
            exc.with_request_id(attempt.request_id)
            raise
        return spec, start, request

    def _authorize(self, attempt: Attempt) -> None:
        if not can_operate(attempt.actor.role):
            raise PermissionRequired(f"{attempt.actor.id} does not have system operate permission.")

    def _start(self, attempt: Attempt, route: str, args: Mapping[str, Any]) -> AttemptStart:
        return AttemptStart(
            attempt_id=new_id("att"),
            request_id=attempt.request_id,
            actor=attempt.actor,
            route=route,
            args=sanitize(dict(args)),
            reason=attempt.reason,
            started_at=iso(self._now()),
            context=dict(attempt.context),
        )

    async def _record_refusal(self, start: AttemptStart, error: OpsError) -> None:
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            log.error("audit unavailable; %s refusal of %s not recorded", start.route, exc.message)
            return
        await self._finish(start, outcome_of(error), error)

    async def _finish(
        self, start: AttemptStart, outcome: Outcome, error: BaseException | None
    ) -> bool:
        code = getattr(error, "code", "INTERNAL_ERROR") if error else None
        message = (getattr(error, "message", None) or str(error)) if error else None
        finish = AttemptFinish(
            attempt_id=start.attempt_id,
            request_id=start.request_id,
            outcome=outcome,
            finished_at=iso(self._now()),
            error_code=code,
            error_message=message,
        )
        return await self._audit.record_finish(finish)
