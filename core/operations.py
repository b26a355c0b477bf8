"""The use cases every surface calls: authorize, audit, run one operation, audit the outcome.

Slack, the HTTP routes and the CLI all go through :class:`Operations`, so the four operations get
the same checks and the same audit whatever the surface. Every call is one **audited attempt**
(:meth:`Operations._attempt`): its start is recorded, then its finish with the outcome, and every
error leaves with the attempt's request id, for doctor, previews, writes and refusals alike.

* the actor's role must be ``operator`` (the operator guide's system operate permission), else
  ``denied``;
* the arguments are validated before anything is sent to Restate (``InvalidInput``);
* a write stops before its first change when its start could not be recorded (fail closed); doctor
  and previews change nothing, so they still answer, saying the audit is unavailable;
* a write runs the plan its preview showed (``expected``) or says what changed (``core.plans``);
* a write under the two-person rule (``core.two_person``) is held for a second operator instead,
  unless it comes with that operator's ``Approval`` (``core.approvals``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from core.advice import advise
from core.audit import Actor, AttemptFinish, AttemptStart, AuditLog, Outcome, Phase
from core.authz import can_operate
from core.doctor import run_doctor
from core.errors import (
    ApprovalRequired,
    AuditUnavailable,
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
    DoctorReport,
    Plan,
    Route,
    parse_request,
)
from core.redact import sanitize
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.shared_readout import SharedReadout
from core.two_person import Approval, ApprovalGate
from core.writes import ROUTES, WriteResponse, WriteRoute, required_admin

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


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


@dataclass
class AuditedAttempt:
    """An attempt in progress inside :meth:`Operations._attempt`."""

    start: AttemptStart
    #: Storing the start, under way while the attempt runs: None, or why it was not stored.
    recording: asyncio.Future[AuditUnavailable | None]
    #: Whether the finish reached the audit store (set when the attempt ends).
    complete: bool = True

    async def unrecorded(self) -> AuditUnavailable | None:
        """Why the start is not in the audit store (waiting for the store's answer); or None."""
        return await self.recording

    async def require_recorded(self) -> None:
        """Fail closed: await before a write's first change; raises when the start is missing."""
        error = await self.recording
        if error is not None:
            raise error


def _retrieved(task: asyncio.Future[AuditUnavailable | None]) -> None:
    """Mark a start's outcome as seen when nobody is left to await it."""
    if not task.cancelled():
        task.exception()


def outcome_of(error: BaseException) -> Outcome:
    if isinstance(error, PermissionRequired | Unauthenticated):
        return "denied"
    if isinstance(error, WorkflowRetryBlocked | ApprovalRequired):
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
        readout_max_age_s: float = 0.0,
        approvals: ApprovalGate | None = None,
    ) -> None:
        self._admin = admin
        self._ingress = ingress
        self._audit = audit
        self._live_service_url = live_service_url
        self._probe_timeout_s = probe_timeout_s
        self._now = now
        #: The two-person rule and where held writes wait; None: no write needs a second operator.
        self._approvals = approvals
        # Concurrent doctors share one run (and, with a max age, a readout that young).
        self._readouts = SharedReadout(self._run_doctor, max_age_s=readout_max_age_s)

    @property
    def live_service_url(self) -> str | None:
        return self._live_service_url

    async def doctor(self, attempt: Attempt) -> DoctorResult:
        """Read-only health readout plus advice. Answers even when the audit store is down."""
        async with self._attempt(attempt, "doctor", {}) as audited:
            self._authorize(attempt)
            report = await self._readouts.get()
        advice = advise(report, live_service_url=self._live_service_url)
        unrecorded = await audited.unrecorded()
        audit_error = unrecorded.message if unrecorded else None
        return DoctorResult(report, advice, attempt.request_id, audit_error)

    @property
    def doctor_runs(self) -> int:
        """Doctor runs that went to Restate; concurrent requests share one (the benchmark's)."""
        return self._readouts.runs

    async def _run_doctor(self) -> DoctorReport:
        return await run_doctor(
            self._admin, self._ingress, now=self._now, probe_timeout_s=self._probe_timeout_s
        )

    async def execute(
        self,
        attempt: Attempt,
        route: Route,
        args: Mapping[str, Any],
        *,
        expected: Plan | None = None,
        approval: Approval | None = None,
    ) -> WriteResult:
        """Run one write route with raw arguments (a route body, or parsed command text).

        ``expected`` is the plan of the preview the operator confirmed (``Advice.plan``): the
        write runs it, skips what changed since, or refuses with ``PreviewOutdated``. A write
        under the two-person rule runs only with a second operator's ``approval`` (recorded in
        the audit context); without one it is held and ``ApprovalRequired`` says how to approve.
        """
        if approval is not None:
            attempt = replace(attempt, context={**attempt.context, **approval.audit_context()})
        async with self._attempt(attempt, route, args) as audited:
            spec, request = self._admit(attempt, route, args)
            await audited.require_recorded()
            gate = self._approvals
            if approval is None and gate is not None and gate.applies(route, request):
                advice = await spec.preview(self._admin, request)
                raise await gate.hold(attempt, route, args, advice, expected or advice.plan)
            try:
                response = await spec.run(required_admin(self._admin), request, expected)
            finally:
                self._readouts.invalidate()  # the next doctor must see what this changed
        return WriteResult(route, attempt.request_id, response, audited.complete)

    async def preview(self, attempt: Attempt, route: Route, args: Mapping[str, Any]) -> Advice:
        """What a write would change, checked against the server now, before anyone confirms.

        Authorizes and validates like :meth:`execute` and is audited like it (phase
        ``preview``), but changes nothing. Cleanup reads the deployments and their drain state;
        recover checks the service is a workflow and reads the key's runs, raising the refusal
        the write would raise. The returned advice carries the plan to pass to :meth:`execute`.
        """
        async with self._attempt(attempt, route, args, phase="preview"):
            spec, request = self._admit(attempt, route, args)
            advice = await spec.preview(self._admin, request)
        if self._approvals is not None and self._approvals.applies(route, request):
            return advice.model_copy(update={"needs_approval": True})
        return advice

    async def authorize(self, attempt: Attempt, route: Route) -> None:
        """Refuse (and audit) an actor without operate permission, before a surface spends
        anything on the attempt, e.g. before a Slack click consumes its one-time button."""
        try:
            self._authorize(attempt)
        except PermissionRequired as exc:
            await self.refuse(attempt, route, {}, exc)

    async def refuse(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], error: OpsError
    ) -> NoReturn:
        """Audit and raise a refusal a surface decides before the operation can start.

        For what only the surface can see: no API key (401), a body that is not JSON. Nothing
        changes, so a broken audit store is logged and does not hide the real answer.
        """
        async with self._attempt(attempt, route, args):
            raise error
        raise AssertionError("an audited attempt re-raises its error")  # pragma: no cover

    # --- helpers -------------------------------------------------------------------------

    @asynccontextmanager
    async def _attempt(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], phase: Phase = "execute"
    ) -> AsyncIterator[AuditedAttempt]:
        """One audited attempt: record its start, run the body, record its finish.

        The start is stored while the body runs, so reads (doctor, previews, refusals) do not
        wait for the audit store; a write awaits ``require_recorded`` before its first change
        (fail closed). A start the store refuses is logged: refusals, doctor and previews still
        answer. The finish waits for the start. Every ``OpsError`` leaving the body carries the
        attempt's request id.
        """
        start = self._start(attempt, route, args, phase)
        audited = AuditedAttempt(start, asyncio.ensure_future(self._record_start(start)))
        try:
            yield audited
        except OpsError as exc:
            exc.with_request_id(attempt.request_id)
            audited.complete = await self._finish(audited, outcome_of(exc), exc)
            raise
        except Exception as exc:
            audited.complete = await self._finish(audited, "failed", exc)
            raise
        except BaseException:  # cancelled: the start still lands; the views call it interrupted
            audited.recording.add_done_callback(_retrieved)
            raise
        audited.complete = await self._finish(audited, "succeeded", None)

    async def _record_start(self, start: AttemptStart) -> AuditUnavailable | None:
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            log.error(
                "audit unavailable for %s %s (%s): %s",
                start.phase,
                start.route,
                start.request_id,
                exc.message,
            )
            return exc
        return None

    def _admit(
        self, attempt: Attempt, route: Route, args: Mapping[str, Any]
    ) -> tuple[WriteRoute, ApiModel]:
        """Authorize and validate a write (inside its audited attempt)."""
        spec = ROUTES.get(route)
        if spec is None:
            raise InvalidInput("route", f"must be one of {', '.join(sorted(ROUTES))}")
        self._authorize(attempt)
        return spec, parse_request(spec.request_model, args)

    def _authorize(self, attempt: Attempt) -> None:
        if not can_operate(attempt.actor.role):
            raise PermissionRequired(f"{attempt.actor.id} does not have system operate permission.")

    def _start(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], phase: Phase
    ) -> AttemptStart:
        return AttemptStart(
            attempt_id=new_id("att"),
            request_id=attempt.request_id,
            actor=attempt.actor,
            route=route,
            phase=phase,
            args=sanitize(dict(args)),
            reason=attempt.reason,
            started_at=self._now(),
            context=dict(attempt.context),
        )

    async def _finish(
        self, audited: AuditedAttempt, outcome: Outcome, error: BaseException | None
    ) -> bool:
        """Record the finish; False when it did not reach the store (or the start never did)."""
        if await audited.unrecorded() is not None:
            return False
        code = getattr(error, "code", "INTERNAL_ERROR") if error else None
        message = (getattr(error, "message", None) or str(error)) if error else None
        finish = AttemptFinish(
            attempt_id=audited.start.attempt_id,
            request_id=audited.start.request_id,
            outcome=outcome,
            finished_at=self._now(),
            error_code=code,
            error_message=message,
        )
        return await self._audit.record_finish(finish)
