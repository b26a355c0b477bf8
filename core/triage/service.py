"""Triage use cases for every surface: query, preview an action, approve, execute, cancel.

Each call is one audited attempt (routes ``invocations-query``, ``-preview``, ``-approve``,
``-execute``, ``-cancel``), authorized like the other operations (role ``operator``). Reads
(query, preview) still answer when the audit store is down; approve, execute and cancel are
refused then (fail closed).

Audit of a bulk action: **one attempt per execution**. Its start lists every previewed id (and
who requested and approved it); its finish carries one ``{"id", "outcome", "detail"}`` per item
(``AttemptFinish.items``). Outcome ``succeeded`` when no item failed, else ``failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn

from pydantic import Field

from core.audit import AttemptFinish, AttemptStart, AuditLog, Outcome
from core.authz import can_operate
from core.errors import (
    ApprovalRequired,
    AuditUnavailable,
    InvalidInput,
    OpsError,
    PermissionRequired,
    SelfApprovalRefused,
)
from core.ids import new_id
from core.models import ApiModel, parse_request
from core.operations import Attempt, outcome_of
from core.redact import redact_text, sanitize
from core.restate.client import RestateAdminClient
from core.restate.queries import iso_utc
from core.triage.actions import applicable, offers
from core.triage.execute import DEFAULT_CONCURRENCY, Executor, Progress
from core.triage.filter import MAX_LIMIT, TriageFilter
from core.triage.models import (
    ActionName,
    BulkAction,
    BulkReport,
    Readout,
    ResumeDeployment,
    Selection,
    TriageItem,
)
from core.triage.select import select_invocations
from core.triage.store import BulkActionStore, CancelResult

log = logging.getLogger(__name__)

TriageRoute = Literal[
    "invocations-query",
    "invocations-preview",
    "invocations-approve",
    "invocations-execute",
    "invocations-cancel",
    "invocations-status",
]
DEFAULT_SHOWN = 20
#: The two-person rule's default: the bulk actions that destroy something.
DEFAULT_TWO_PERSON: frozenset[str] = frozenset({"kill", "purge", "recover"})


@dataclass(frozen=True)
class TriageConfig:
    concurrency: int = DEFAULT_CONCURRENCY
    two_person: frozenset[str] = DEFAULT_TWO_PERSON


class QueryRequest(TriageFilter):
    """A filter, plus how many of the selected invocations the readout lists."""

    shown: int = Field(default=DEFAULT_SHOWN, ge=0, le=MAX_LIMIT)


class ActionRequest(ApiModel):
    action: ActionName
    filter: TriageFilter = TriageFilter()
    #: resume only: ``latest`` re-pins onto the newest deployment; ``keep`` (default) does not.
    deployment: ResumeDeployment | None = None
    shown: int = Field(default=DEFAULT_SHOWN, ge=0, le=MAX_LIMIT)


class Preview(ApiModel):
    """A stored bulk action as the preview shows it: its id, what it acts on, who must approve."""

    action_id: str
    action: ActionName
    deployment: ResumeDeployment | None = None
    filter: str
    #: How many invocations it will act on: exactly these ids, never re-selected.
    count: int
    total_matched: int
    capped: bool
    needs_approval: bool
    requested_by: str
    expires_in_s: int
    items: list[TriageItem]
    text: str


def utc_now() -> datetime:
    return datetime.now(UTC)


class Triage:
    def __init__(
        self,
        *,
        admin: RestateAdminClient,
        audit: AuditLog,
        store: BulkActionStore,
        config: TriageConfig = TriageConfig(),
        action_ttl: timedelta = timedelta(minutes=15),
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._admin = admin
        self._audit = audit
        self._store = store
        self._config = config
        self._action_ttl = action_ttl
        self._now = now
        self._executor = Executor(admin, store, concurrency=config.concurrency)

    # --- reads ---------------------------------------------------------------------------------

    async def query(self, attempt: Attempt, args: Mapping[str, Any]) -> Readout:
        """The readout of a filter: counts, the first ``shown`` items, the actions on offer."""
        request = await self._admit(attempt, "invocations-query", args, QueryRequest)
        start = await self._begin(attempt, "invocations-query", args, fail_closed=False)
        try:
            selection = await self._select(request)
            version = await self._admin.version()
        except OpsError as exc:
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        await self._end(start, "succeeded")
        return Readout(
            filter=selection.filter.describe(),
            total=selection.total,
            selected=len(selection.items),
            capped=selection.capped,
            by_status=selection.by_status,
            by_service=selection.by_service,
            items=selection.items[: request.shown],
            actions=offers(selection.items, version.release, self._config.two_person),
            server_version=version.version,
        )

    async def preview(self, attempt: Attempt, args: Mapping[str, Any]) -> Preview:
        """Select, keep the invocations the action applies to, and store them as a bulk action."""
        request = await self._admit(attempt, "invocations-preview", args, ActionRequest)
        start = await self._begin(attempt, "invocations-preview", args, fail_closed=False)
        try:
            preview = await self._preview(attempt, request)
        except OpsError as exc:
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        await self._end(start, "succeeded")
        return preview

    async def _preview(self, attempt: Attempt, request: ActionRequest) -> Preview:
        if request.deployment is not None and request.action != "resume":
            raise InvalidInput("deployment", "applies to resume only")
        selection = await self._select(request.filter)
        version = await self._admin.version()
        offer = next(
            o
            for o in offers(selection.items, version.release, self._config.two_person)
            if o.action == request.action
        )
        if not offer.offered:
            raise InvalidInput("action", f"{request.action} is not offered: {offer.reason}")
        items = applicable(request.action, selection.items)
        action = BulkAction(
            id=new_id("bulk"),
            action=request.action,
            deployment=request.deployment or ("keep" if request.action == "resume" else None),
            filter=selection.filter.describe(),
            items=items,
            total_matched=selection.total,
            requested_by=attempt.actor.id,
            requested_at=iso_utc(self._now()),
            needs_approval=offer.needs_approval,
            request_id=attempt.request_id,
            context=dict(attempt.context),
        )
        await self._store.save(action)
        return Preview(
            action_id=action.id,
            action=action.action,
            deployment=action.deployment,
            filter=action.filter,
            count=len(items),
            total_matched=selection.total,
            capped=selection.capped,
            needs_approval=action.needs_approval,
            requested_by=action.requested_by,
            expires_in_s=int(self._action_ttl.total_seconds()),
            items=items[: request.shown],
            text=preview_text(action, selection),
        )

    async def report(self, attempt: Attempt, action_id: str) -> BulkReport:
        """Where an action stands: its final report, or its state when it has not finished."""
        self._authorize(attempt)
        report = await self._store.report(action_id)
        if report is not None:
            return report
        action, fields = await self._store.load(action_id)
        return BulkReport(
            action_id=action.id,
            action=action.action,
            state=fields.get("state", "pending"),
            requested_by=action.requested_by,
            approved_by=fields.get("approved_by"),
            executed_by=fields.get("executed_by"),
            stopped_by=fields.get("stopped_by"),
            total=len(action.items),
        )

    # --- writes --------------------------------------------------------------------------------

    async def approve(self, attempt: Attempt, action_id: str) -> BulkAction:
        """The second operator's approval; the requester's own is refused (and audited)."""
        args = {"actionId": action_id}
        await self._admit(attempt, "invocations-approve", args, None)
        start = await self._begin(attempt, "invocations-approve", args, fail_closed=True)
        try:
            action, _ = await self._store.load(action_id)
            await self._store.approve(action_id, attempt.actor.id, _ms(self._now()))
        except OpsError as exc:
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        await self._end(start, "succeeded")
        return action

    async def execute(
        self, attempt: Attempt, action_id: str, on_item: Progress | None = None
    ) -> BulkReport:
        """Run the stored action once, on exactly its previewed ids, and report every item."""
        await self._admit(attempt, "invocations-execute", {"actionId": action_id}, None)
        try:
            action, fields = await self._store.load(action_id)
        except OpsError as exc:
            refused = await self._begin(
                attempt, "invocations-execute", {"actionId": action_id}, fail_closed=False
            )
            await self._end(refused, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        args = {
            "actionId": action.id,
            "action": action.action,
            "deployment": action.deployment,
            "filter": action.filter,
            "requestedBy": action.requested_by,
            "approvedBy": fields.get("approved_by"),
            "previewRequestId": action.request_id,
            "invocationIds": [item.id for item in action.items],
        }
        start = await self._begin(attempt, "invocations-execute", args, fail_closed=True)
        try:
            await self._store.claim(action_id, attempt.actor.id, _ms(self._now()))
        except OpsError as exc:
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        try:
            _, fields = await self._store.load(action_id)
            outcomes, stopped_by = await self._executor.run(action, on_item)
        except BaseException as exc:
            # A bug, a lost Redis or a cancelled task: the audit says the run broke off.
            message = f"the run broke off: {type(exc).__name__}: {exc}"
            await self._end(start, "failed", message=message)
            raise
        report = BulkReport(
            action_id=action.id,
            action=action.action,
            state="finished",
            requested_by=action.requested_by,
            approved_by=fields.get("approved_by"),
            executed_by=attempt.actor.id,
            stopped_by=stopped_by,
            total=len(action.items),
            done=sum(1 for o in outcomes if o.outcome == "done"),
            skipped=sum(1 for o in outcomes if o.outcome == "skipped"),
            failed=sum(1 for o in outcomes if o.outcome == "failed"),
            items=outcomes,
        )
        try:
            await self._store.finish(report)
        except OpsError as exc:
            log.error("report of %s not stored: %s", action.id, exc.message)
        items = [
            {**o.model_dump(mode="json"), "detail": o.detail and redact_text(o.detail)}
            for o in outcomes
        ]
        summary = f"{report.done} done, {report.skipped} skipped, {report.failed} failed" + (
            f"; stopped by {stopped_by}" if stopped_by else ""
        )
        await self._end(
            start, "failed" if report.failed else "succeeded", message=summary, items=items
        )
        return report

    async def cancel(self, attempt: Attempt, action_id: str) -> CancelResult:
        """Withdraw the action, or stop a running one after the items already started."""
        args = {"actionId": action_id}
        await self._admit(attempt, "invocations-cancel", args, None)
        start = await self._begin(attempt, "invocations-cancel", args, fail_closed=True)
        try:
            result = await self._store.cancel(action_id, attempt.actor.id)
        except OpsError as exc:
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None
        await self._end(start, "succeeded", message=result)
        return result

    async def refuse(self, attempt: Attempt, route: TriageRoute, error: OpsError) -> NoReturn:
        """Audit a refusal the surface decided (no API key, a body that is not JSON), then raise."""
        start = await self._begin(attempt, route, {}, fail_closed=False)
        await self._end(start, _outcome(error), error)
        raise error.with_request_id(attempt.request_id)

    # --- helpers -------------------------------------------------------------------------------

    async def _select(self, flt: TriageFilter) -> Selection:
        return await select_invocations(self._admin, flt, self._now())

    def _authorize(self, attempt: Attempt) -> None:
        if not can_operate(attempt.actor.role):
            raise PermissionRequired(f"{attempt.actor.id} does not have system operate permission.")

    async def _admit(
        self,
        attempt: Attempt,
        route: TriageRoute,
        args: Mapping[str, Any],
        model: type[Any] | None,
    ) -> Any:
        """Authorize, then validate; a refusal is audited (best effort) and raised."""
        try:
            self._authorize(attempt)
            return parse_request(model, args) if model is not None else None
        except (PermissionRequired, InvalidInput) as exc:
            start = await self._begin(attempt, route, args, fail_closed=False)
            await self._end(start, _outcome(exc), exc)
            raise exc.with_request_id(attempt.request_id) from None

    async def _begin(
        self, attempt: Attempt, route: TriageRoute, args: Mapping[str, Any], *, fail_closed: bool
    ) -> AttemptStart | None:
        start = AttemptStart(
            attempt_id=new_id("att"),
            request_id=attempt.request_id,
            actor=attempt.actor,
            route=route,
            args=sanitize(dict(args)),
            reason=attempt.reason,
            started_at=iso_utc(self._now()),
            context=dict(attempt.context),
        )
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            if fail_closed:
                raise exc.with_request_id(attempt.request_id) from None
            log.error("audit unavailable; %s by %s not recorded", route, attempt.actor.id)
            return None
        return start

    async def _end(
        self,
        start: AttemptStart | None,
        outcome: Outcome,
        error: OpsError | None = None,
        *,
        message: str | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> bool:
        if start is None:
            return False
        finish = AttemptFinish(
            attempt_id=start.attempt_id,
            request_id=start.request_id,
            outcome=outcome,
            finished_at=iso_utc(self._now()),
            error_code=error.code if error else None,
            error_message=error.message if error else message,
            items=items,
        )
        return await self._audit.record_finish(finish)


def preview_text(action: BulkAction, selection: Selection) -> str:
    """One sentence for confirm dialogs and prompts: what runs, on how many, and what not."""
    verb = {
        "kill": "Kill",
        "cancel": "Cancel",
        "purge": "Purge",
        "pause": "Pause",
        "resume": "Resume",
        "recover": "Recover the workflow keys of",
        "restart-as-new": "Restart as new",
    }[action.action]
    text = f"{verb} {len(action.items)} invocation(s) matching {action.filter}"
    if action.action == "resume":
        text += f" on the {action.deployment} deployment"
    left = selection.total - len(action.items)
    if selection.capped:
        text += f"; {selection.total} match, only the first {len(selection.items)} were selected"
    elif left:
        text += f"; {left} other match(es) are in a state it does not apply to"
    if action.needs_approval:
        text += ". A second operator must approve it"
    return text + "."


def _outcome(error: OpsError) -> Outcome:
    """The two-person rule's refusals read as such in the audit: denied, or blocked."""
    if isinstance(error, SelfApprovalRefused):
        return "denied"
    if isinstance(error, ApprovalRequired):
        return "blocked"
    return outcome_of(error)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
