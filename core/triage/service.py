"""Triage use cases for every surface: query, preview an action, approve, execute, cancel.

Each call is one audited attempt (``core.triage.audited``; routes ``invocations-query``,
``-preview``, ``-approve``, ``-execute``, ``-cancel``), authorized like the other operations (role
``operator``). Reads (query, preview) still answer when the audit store is down; approve, execute
and cancel are refused then (fail closed).

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

from core.audit import AuditLog
from core.authz import can_operate
from core.errors import (
    InvalidInput,
    OpsError,
    PermissionRequired,
)
from core.ids import new_id
from core.models import parse_request
from core.operations import Attempt
from core.redact import redact_text
from core.restate.client import RestateAdminClient
from core.timestamps import iso_utc
from core.triage.actions import applicable, offers, preview_text
from core.triage.audited import AuditedAttempts
from core.triage.execute import DEFAULT_CONCURRENCY, Executor, Progress
from core.triage.filter import TriageFilter
from core.triage.models import (
    INTERRUPTED_MESSAGE,
    ActionRequest,
    BulkAction,
    BulkReport,
    ItemOutcome,
    Preview,
    QueryRequest,
    Readout,
    Selection,
)
from core.triage.select import select_invocations
from core.triage.store import BulkActionStore, CancelResult, action_state

log = logging.getLogger(__name__)

TriageRoute = Literal[
    "invocations-query",
    "invocations-preview",
    "invocations-approve",
    "invocations-execute",
    "invocations-cancel",
    "invocations-status",
]
#: The two-person rule's default: the bulk actions that destroy something.
DEFAULT_TWO_PERSON: frozenset[str] = frozenset({"kill", "purge", "recover"})


@dataclass(frozen=True)
class TriageConfig:
    concurrency: int = DEFAULT_CONCURRENCY
    two_person: frozenset[str] = DEFAULT_TWO_PERSON


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
        self._store = store
        self._config = config
        self._action_ttl = action_ttl
        self._now = now
        self._audited = AuditedAttempts(audit, now)
        self._executor = Executor(
            admin, store, concurrency=config.concurrency, now_ms=lambda: _ms(self._now())
        )

    # --- reads: still answered when the audit store is down ------------------------------------

    async def query(self, attempt: Attempt, args: Mapping[str, Any]) -> Readout:
        """The readout of a filter: counts, the first ``shown`` items, the actions on offer."""
        request = await self._admit(attempt, "invocations-query", args, QueryRequest)
        async with self._audited.attempt(attempt, "invocations-query", args, fail_closed=False):
            selection = await self._select(request)
            version = await self._admin.version()
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
        async with self._audited.attempt(attempt, "invocations-preview", args, fail_closed=False):
            preview = await self._preview(attempt, request)
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
        """Where an action stands: its final report, or its state and counts so far when it has
        not finished (``interrupted``, with what to do next, once a run's process has ended)."""
        self._authorize(attempt)
        report = await self._store.report(action_id)
        if report is not None:
            return report
        action, fields = await self._store.load(action_id)
        state = action_state(fields, _ms(self._now()))
        return BulkReport(
            action_id=action.id,
            action=action.action,
            state=state,
            requested_by=action.requested_by,
            approved_by=fields.get("approved_by"),
            executed_by=fields.get("executed_by"),
            stopped_by=fields.get("stopped_by"),
            total=len(action.items),
            done=int(fields.get("done", 0)),
            skipped=int(fields.get("skipped", 0)),
            failed=int(fields.get("failed", 0)),
            message=INTERRUPTED_MESSAGE if state == "interrupted" else None,
        )

    # --- writes: refused when their start cannot be audited ------------------------------------

    async def approve(self, attempt: Attempt, action_id: str) -> BulkAction:
        """The second operator's approval; the requester's own is refused (and audited)."""
        args = {"actionId": action_id}
        await self._admit(attempt, "invocations-approve", args, None)
        async with self._audited.attempt(attempt, "invocations-approve", args, fail_closed=True):
            action, _ = await self._store.load(action_id)
            await self._store.approve(action_id, attempt.actor.id, _ms(self._now()))
        return action

    async def execute(
        self,
        attempt: Attempt,
        action_id: str,
        on_item: Progress | None = None,
        *,
        on_start: Callable[[], None] | None = None,
    ) -> BulkReport:
        """Run the stored action once, on exactly its previewed ids, and report every item.

        ``on_start`` is called once the run is claimed (approval checked, nobody else running
        it): a caller that does not wait for the report can answer then.
        """
        route: TriageRoute = "invocations-execute"
        await self._admit(attempt, route, {"actionId": action_id}, None)
        try:
            action, fields = await self._store.load(action_id)
        except OpsError as exc:
            await self._audited.refuse(attempt, route, {"actionId": action_id}, exc)
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
        async with self._audited.attempt(attempt, route, args, fail_closed=True) as record:
            await self._store.claim(action_id, attempt.actor.id, _ms(self._now()))
            if on_start is not None:
                on_start()
            _, fields = await self._store.load(action_id)
            outcomes, stopped_by = await self._executor.run(
                action, self._counted(action.id, on_item)
            )
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
            await self._keep_report(report)
            record.outcome = "failed" if report.failed else "succeeded"
            record.message = f"{report.done} done, {report.skipped} skipped, {report.failed} failed"
            if stopped_by:
                record.message += f"; stopped by {stopped_by}"
            record.items = [
                {**o.model_dump(mode="json"), "detail": o.detail and redact_text(o.detail)}
                for o in outcomes
            ]
        return report

    async def cancel(self, attempt: Attempt, action_id: str) -> CancelResult:
        """Withdraw the action, or stop a running one after the items already started; an
        interrupted one is refused (its run has already ended midway)."""
        args = {"actionId": action_id}
        await self._admit(attempt, "invocations-cancel", args, None)
        async with self._audited.attempt(
            attempt, "invocations-cancel", args, fail_closed=True
        ) as record:
            result = await self._store.cancel(action_id, attempt.actor.id, _ms(self._now()))
            record.message = result
        return result

    async def refuse(self, attempt: Attempt, route: TriageRoute, error: OpsError) -> NoReturn:
        """Audit a refusal the surface decided (no API key, a body that is not JSON), then raise."""
        await self._audited.refuse(attempt, route, {}, error)

    # --- helpers -------------------------------------------------------------------------------

    async def _select(self, flt: TriageFilter) -> Selection:
        return await select_invocations(self._admin, flt, self._now())

    def _counted(self, action_id: str, on_item: Progress | None) -> Progress:
        """Count each outcome in the store (best effort), then pass it on."""

        async def counted(outcome: ItemOutcome) -> None:
            try:
                await self._store.count(action_id, outcome.outcome)
            except OpsError as exc:
                log.warning("progress of %s not counted: %s", action_id, exc.message)
            if on_item is not None:
                await on_item(outcome)

        return counted

    async def _keep_report(self, report: BulkReport) -> None:
        """The report for GET …/actions/{id}: losing it loses nothing the audit does not keep."""
        try:
            await self._store.finish(report)
        except OpsError as exc:
            log.error("report of %s not stored: %s", report.action_id, exc.message)

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
            await self._audited.refuse(attempt, route, args, exc)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
