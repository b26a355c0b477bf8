"""Run a triage filter: the capped selection (one query) and its true size (one count query).

The rows query returns at most ``limit`` invocations, oldest first (the ones an incident has held
longest); the count query groups the *whole* match by status and service, so the readout can say
"1,000 of 3,412". Paused runs get their error from their last ``Paused`` event (notes §5.2).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import AdminRequestFailed, AdminUnreachable
from core.restate.client import RestateAdminClient
from core.restate.queries import ERROR_TEXT_LIMIT
from core.restate.sql import literal
from core.timestamps import iso_utc, parse_utc
from core.triage.filter import TriageFilter, where_sql
from core.triage.models import Selection, TriageItem

#: Ids per ``IN (…)`` list: keeps each SQL statement a reasonable size.
ID_CHUNK = 200


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _ItemRow(_Row):
    id: str
    target_service_name: str
    target_service_key: str | None = None
    target_handler_name: str | None = None
    target_service_ty: str | None = None
    status: str
    completion_result: str | None = None
    completion_failure: str | None = None
    last_failure: str | None = None
    last_failure_error_code: str | None = None
    pinned_deployment_id: str | None = None
    retry_count: int | None = None
    created_at: str | None = None
    modified_at: str | None = None


class _CountRow(_Row):
    status: str
    target_service_name: str
    n: int


class _PausedEvent(_Row):
    id: str
    event_json: str


def _parse(model: type[_Row], rows: list[dict[str, Any]], what: str) -> list[Any]:
    try:
        return [model.model_validate(row) for row in rows]
    except ValidationError as exc:
        raise AdminRequestFailed(
            "POST", "/query", 200, f"unexpected {what} row: {exc.errors()[0]['msg']}"
        ) from exc


ITEM_COLUMNS = (
    "id, target_service_name, target_service_key, target_handler_name, target_service_ty, "
    "status, completion_result, "
    f"substr(completion_failure, 1, {ERROR_TEXT_LIMIT}) AS completion_failure, "
    f"substr(last_failure, 1, {ERROR_TEXT_LIMIT}) AS last_failure, "
    "last_failure_error_code, pinned_deployment_id, retry_count, created_at, modified_at"
)


async def select_invocations(
    admin: RestateAdminClient, flt: TriageFilter, now: datetime
) -> Selection:
    """The invocations ``flt`` matches (at most ``flt.limit``), with counts over the whole match."""
    where = where_sql(flt, now)
    rows_sql = (
        f"SELECT {ITEM_COLUMNS} FROM sys_invocation WHERE {where} "  # noqa: S608 - where_sql() quotes every value
        f"ORDER BY created_at ASC, id ASC LIMIT {int(flt.limit)}"
    )
    count_sql = (
        "SELECT status, target_service_name, count(*) AS n FROM sys_invocation "  # noqa: S608 - as above
        f"WHERE {where} GROUP BY status, target_service_name"
    )
    rows: list[_ItemRow] = _parse(_ItemRow, await admin.query(rows_sql), "invocation")
    counts: list[_CountRow] = _parse(_CountRow, await admin.query(count_sql), "count")
    reasons = await paused_reasons(admin, [row.id for row in rows if row.status == "paused"])
    main_handlers = await _workflow_main_handlers(admin, rows)
    by_status: Counter[str] = Counter()
    by_service: Counter[str] = Counter()
    for count in counts:
        by_status[count.status] += count.n
        by_service[count.target_service_name] += count.n
    total = sum(by_status.values())
    return Selection(
        filter=flt,
        total=max(total, len(rows)),
        by_status=dict(sorted(by_status.items())),
        by_service=dict(sorted(by_service.items())),
        items=[
            _item(row, reasons.get(row.id), main_handlers.get(row.target_service_name))
            for row in rows
        ],
        selected_at=iso_utc(now),
    )


async def _workflow_main_handlers(
    admin: RestateAdminClient, rows: Sequence[_ItemRow]
) -> dict[str, str]:
    """Main handler by workflow service, read only when the selection holds workflow runs."""
    if not any(row.target_service_ty == "workflow" for row in rows):
        return {}
    return {
        service.name: service.workflow_handler
        for service in await admin.list_services()
        if service.workflow_handler is not None
    }


def _item(
    row: _ItemRow, paused: tuple[str | None, str | None] | None, main_handler: str | None
) -> TriageItem:
    code, error = row.last_failure_error_code, _first_line(row.last_failure)
    if row.status == "completed" and row.completion_result == "failure":
        error = _first_line(row.completion_failure)
    if paused is not None:
        code, error = paused[0] or code, _first_line(paused[1]) or error
    return TriageItem(
        id=row.id,
        service=row.target_service_name,
        key=row.target_service_key or None,
        handler=row.target_handler_name,
        service_type=row.target_service_ty,
        status=row.status,
        completion_result=row.completion_result,
        created_at=normalize_timestamp(row.created_at),
        modified_at=normalize_timestamp(row.modified_at),
        retry_count=row.retry_count,
        deployment=row.pinned_deployment_id,
        error_code=code,
        error=error,
        workflow_run=(
            row.target_service_ty == "workflow"
            and main_handler is not None
            and row.target_handler_name == main_handler
        ),
    )


def normalize_timestamp(raw: str | None) -> str | None:
    """Restate's timestamps in one format (``…18.527Z``); an unreadable one passes unchanged."""
    moment = parse_utc(raw)
    return iso_utc(moment) if moment is not None else raw


def _first_line(text: str | None) -> str | None:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else None


async def paused_reasons(
    admin: RestateAdminClient, invocation_ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None]]:
    """(error code, message) of each paused invocation's latest ``Paused`` event.

    Best effort: reasons only decorate the readout, so a failed lookup (or a server older than
    1.5, without ``sys_journal_events``) gives no reasons rather than no readout.
    """
    reasons: dict[str, tuple[str | None, str | None]] = {}
    for start in range(0, len(invocation_ids), ID_CHUNK):
        ids = ", ".join(literal(i) for i in invocation_ids[start : start + ID_CHUNK])
        sql = (
            "SELECT id, event_json FROM sys_journal_events "  # noqa: S608 - ids go through literal()
            f"WHERE event_type = 'Paused' AND id IN ({ids}) ORDER BY appended_at DESC"
        )
        try:
            events: list[_PausedEvent] = _parse(_PausedEvent, await admin.query(sql), "event")
        except (AdminRequestFailed, AdminUnreachable):
            return reasons
        for event in events:
            reasons.setdefault(event.id, _pause_reason(event.event_json))
    return reasons


def _pause_reason(event_json: str) -> tuple[str | None, str | None]:
    try:
        failure = json.loads(event_json).get("last_failure") or {}
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(failure, dict):
        return None, None
    code, message = failure.get("restate_doc_error_code"), failure.get("error_message")
    return (None if code is None else str(code), None if message is None else str(message))


class CurrentState(_Row):
    """What an invocation looks like right now, for the re-check before acting on it."""

    id: str
    status: str
    completion_result: str | None = None
    created_at: str | None = None


async def current_states(
    admin: RestateAdminClient, invocation_ids: Sequence[str]
) -> dict[str, CurrentState]:
    """The current status of each id that still exists (a purged one is simply absent)."""
    found: dict[str, CurrentState] = {}
    for start in range(0, len(invocation_ids), ID_CHUNK):
        ids = ", ".join(literal(i) for i in invocation_ids[start : start + ID_CHUNK])
        sql = (
            "SELECT id, status, completion_result, created_at FROM sys_invocation "  # noqa: S608 - literal()
            f"WHERE id IN ({ids})"
        )
        for row in _parse(CurrentState, await admin.query(sql), "current state"):
            found[row.id] = row
    return found
