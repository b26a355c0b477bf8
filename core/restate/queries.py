"""SQL introspection of a Restate server, as typed async functions over ``RestateAdminClient``.

Verified against restate-server 1.7.12. Restate leaves null columns out of the row
objects, so every row model gives optional columns a default. A row that does not fit its model
becomes :class:`~core.errors.AdminRequestFailed` like any other unexpected admin answer.

Public functions, top to bottom: deployments with their drain state (doctor and cleanup), one
workflow key's runs (recover), the doctor's invocation queries, then what a key still holds
(recover's verification).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import AdminRequestFailed, AdminUnreachable
from core.models import MAX_RECENT_FAILURES, DeploymentItem, FailureItem, StuckItem
from core.plans import rules
from core.restate.client import RestateAdminClient
from core.restate.sql import literal
from core.restate.wire import Deployment, Service
from core.timestamps import iso_utc, parse_utc

#: Statuses of invocations that keep retrying or gave up retrying (1.5+ default is to pause).
STUCK_STATUSES = ("backing-off", "paused")
MAX_STUCK = 20
#: Longer texts are cut in SQL, so a traceback never travels in full.
ERROR_TEXT_LIMIT = 500

Row = TypeVar("Row", bound=BaseModel)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _rows(model: type[Row], rows: list[dict[str, Any]], what: str) -> list[Row]:
    try:
        return [model.model_validate(row) for row in rows]
    except ValidationError as exc:
        raise AdminRequestFailed(
            "POST", "/query", 200, f"unexpected {what} row: {exc.errors()[0]['msg']}"
        ) from exc


# --- deployments with their drain state (doctor; cleanup-stale-deployments) ------------------


class _PinnedRow(_Row):
    id: str
    pinned_active: int = 0


# One row per registered deployment, zero counts included (verified on 1.7.12). Completed
# invocations keep their pin since 1.5, so only active ones count.
_PINNED_SQL = (
    "SELECT d.id AS id, "  # noqa: S608 - constants only
    "(SELECT count(*) FROM sys_invocation_status i "
    f"WHERE i.pinned_deployment_id = d.id AND {rules.active_status_sql('i.status')}) "
    "AS pinned_active FROM sys_deployment d"
)


async def pinned_active_counts(admin: RestateAdminClient) -> dict[str, int]:
    """Active invocations pinned to each registered deployment, keyed by deployment id."""
    rows = _rows(_PinnedRow, await admin.query(_PINNED_SQL), "pinned invocation count")
    return {row.id: row.pinned_active for row in rows}


def latest_for_services(services: Iterable[Service]) -> dict[str, tuple[str, ...]]:
    """Service names by the deployment that holds their latest revision (sorted names)."""
    latest: dict[str, list[str]] = {}
    for service in services:
        if service.deployment_id:
            latest.setdefault(service.deployment_id, []).append(service.name)
    return {dep: tuple(sorted(names)) for dep, names in latest.items()}


def deployment_items(
    deployments: Iterable[Deployment],
    services: Iterable[Service] | None,
    pinned: Mapping[str, int] | None,
) -> list[DeploymentItem]:
    """The operator's view of each deployment, newest first, with its drain state.

    ``None`` means that fact could not be read. A deployment missing from ``pinned`` was
    registered after the count ran: its count is unknown, never zero.
    """
    latest = None if services is None else latest_for_services(services)
    by_id = sorted(deployments, key=lambda d: d.id)
    ordered = sorted(by_id, key=lambda d: d.created_at or "", reverse=True)
    items = []
    for deployment in ordered:
        latest_for = None if latest is None else list(latest.get(deployment.id, ()))
        count = None if pinned is None else pinned.get(deployment.id)
        items.append(
            DeploymentItem(
                id=deployment.id,
                # The exact string Restate returns: cleanup must be given it unchanged.
                service_url=deployment.endpoint,
                created_at=parse_utc(deployment.created_at),
                drain_state=rules.drain_state(latest_for, count),
                pinned_invocations=count,
                latest_for=latest_for or [],
            )
        )
    return items


@dataclass(frozen=True)
class DeploymentFacts:
    """Every registered deployment with its drain state, read in one go."""

    items: list[DeploymentItem]
    #: Why the drain state is unknown (the usage could not be read); None when it was read.
    usage_error: str | None = None


async def deployment_facts(admin: RestateAdminClient) -> DeploymentFacts:
    """List the deployments and read their usage. Transport failures propagate; an error answer
    to the usage reads leaves every drain state unknown (never drained) and says why."""
    deployments = await admin.list_deployments()
    try:
        pinned, services = await asyncio.gather(pinned_active_counts(admin), admin.list_services())
    except AdminRequestFailed as exc:
        return DeploymentFacts(deployment_items(deployments, None, None), exc.message)
    return DeploymentFacts(deployment_items(deployments, services, pinned))


# --- one workflow key (recover-stuck-workflow) ----------------------------------------------


class WorkflowRun(_Row):
    """One invocation of a (service, key, handler). Null columns arrive as None."""

    id: str
    status: str
    completion_result: str | None = None
    completion_failure: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    retry_count: int | None = None
    last_failure_error_code: str | None = None
    pinned_deployment_id: str | None = None

    @property
    def active(self) -> bool:
        return rules.is_active(self.status)

    @property
    def succeeded(self) -> bool:
        return not self.active and self.completion_result == "success"

    @property
    def failed(self) -> bool:
        return not self.active and self.completion_result == "failure"


async def workflow_runs(
    admin: RestateAdminClient, service: str, key: str, handler: str
) -> list[WorkflowRun]:
    """Invocations of ``service/key/handler``, newest first (one since 1.2: the id is derived)."""
    sql = (
        "SELECT id, status, completion_result, completion_failure, created_at, modified_at, "  # noqa: S608 - every value goes through literal()
        "retry_count, last_failure_error_code, pinned_deployment_id FROM sys_invocation "
        f"WHERE target_service_name = {literal(service)} "
        f"AND target_service_key = {literal(key)} "
        f"AND target_handler_name = {literal(handler)} "
        "ORDER BY created_at DESC"
    )
    return _rows(WorkflowRun, await admin.query(sql), "workflow run")


# --- invocations (doctor) -------------------------------------------------------------------


class _StatusCount(_Row):
    status: str
    n: int


async def invocation_counts(admin: RestateAdminClient) -> dict[str, int]:
    """Invocation counts by status, as the ``sys_invocation`` view computes it."""
    sql = "SELECT status, count(*) AS n FROM sys_invocation GROUP BY status ORDER BY status"
    return {row.status: row.n for row in _rows(_StatusCount, await admin.query(sql), "count")}


class _FailureRow(_Row):
    id: str
    target_service_name: str
    target_service_key: str | None = None
    target_handler_name: str | None = None
    completion_failure: str | None = None
    completed_at: str | None = None
    modified_at: str | None = None


async def recent_failures(
    admin: RestateAdminClient, *, limit: int = MAX_RECENT_FAILURES
) -> list[FailureItem]:
    """Terminal failures (TerminalError, killed, cancelled), most recently modified first."""
    sql = (
        "SELECT id, target_service_name, target_service_key, target_handler_name, "  # noqa: S608 - constants and int() only
        f"substr(completion_failure, 1, {ERROR_TEXT_LIMIT}) AS completion_failure, "
        "completed_at, modified_at FROM sys_invocation "
        "WHERE status = 'completed' AND completion_result = 'failure' "
        f"ORDER BY modified_at DESC LIMIT {int(limit)}"
    )
    return [
        FailureItem(
            id=row.id,
            service_name=row.target_service_name,
            # Plain services have no key; the column is then absent from the row.
            service_key=row.target_service_key or None,
            handler=row.target_handler_name,
            failed_at=parse_utc(row.completed_at or row.modified_at),
            error_message=row.completion_failure,
        )
        for row in _rows(_FailureRow, await admin.query(sql), "failure")
    ]


class _StuckRow(_Row):
    id: str
    target_service_name: str
    target_service_key: str | None = None
    target_handler_name: str | None = None
    status: str
    retry_count: int | None = None
    last_failure_error_code: str | None = None
    last_failure: str | None = None
    modified_at: str | None = None


async def stuck_invocations(
    admin: RestateAdminClient, *, limit: int = MAX_STUCK
) -> list[StuckItem]:
    """``backing-off`` and ``paused`` invocations, most recently modified first, with the error."""
    statuses = ", ".join(literal(status) for status in STUCK_STATUSES)
    sql = (
        "SELECT id, target_service_name, target_service_key, target_handler_name, status, "  # noqa: S608 - literal() and int() only
        "retry_count, last_failure_error_code, "
        f"substr(last_failure, 1, {ERROR_TEXT_LIMIT}) AS last_failure, modified_at "
        f"FROM sys_invocation WHERE status IN ({statuses}) "
        f"ORDER BY modified_at DESC LIMIT {int(limit)}"
    )
    rows = _rows(_StuckRow, await admin.query(sql), "stuck invocation")
    paused = await _paused_failures(admin, [row.id for row in rows if row.status == "paused"])
    items = []
    for row in rows:
        code, message = paused.get(row.id, (row.last_failure_error_code, row.last_failure))
        items.append(
            StuckItem(
                id=row.id,
                service_name=row.target_service_name,
                service_key=row.target_service_key or None,
                handler=row.target_handler_name,
                status=row.status,
                retry_count=row.retry_count,
                error_code=code,
                error_message=_first_line(message),
                modified_at=parse_utc(row.modified_at),
            )
        )
    return items


class _PausedEvent(_Row):
    id: str
    event_json: str


async def _paused_failures(
    admin: RestateAdminClient, invocation_ids: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    """(error code, message) of the last Paused event per id (1.5+ keeps them nowhere else).

    Best effort: the reason only decorates the stuck list, so a failed lookup (or a server
    without ``sys_journal_events``) yields no reasons instead of hiding the list.
    """
    if not invocation_ids:
        return {}
    ids = ", ".join(literal(invocation_id) for invocation_id in invocation_ids)
    sql = (
        "SELECT id, event_json FROM sys_journal_events "  # noqa: S608 - ids go through literal()
        f"WHERE event_type = 'Paused' AND id IN ({ids}) ORDER BY appended_at DESC"
    )
    try:
        events = _rows(_PausedEvent, await admin.query(sql), "paused event")
    except (AdminRequestFailed, AdminUnreachable):
        return {}
    reasons: dict[str, tuple[str | None, str | None]] = {}
    for event in events:
        if event.id not in reasons:  # newest first: keep the latest pause
            reasons[event.id] = _pause_reason(event.event_json)
    return reasons


def _pause_reason(event_json: str) -> tuple[str | None, str | None]:
    try:
        failure = json.loads(event_json).get("last_failure") or {}
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(failure, dict):
        return None, None
    code, message = failure.get("restate_doc_error_code"), failure.get("error_message")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
    )


def _first_line(text: str | None) -> str | None:
    """The error line of a failure; the traceback below it does not fit a chat message."""
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else None


# --- what one workflow key still holds (recover-stuck-workflow's verification) ---------------


@dataclass(frozen=True)
class KeyLeftovers:
    """What a workflow key still holds: main-handler runs, K/V state rows, promises."""

    runs: int
    state_rows: int
    promises: int


class _LeftoverRow(_Row):
    runs: int = 0
    state_rows: int = 0
    promises: int = 0


async def key_leftovers(
    admin: RestateAdminClient, service: str, key: str, handler: str
) -> KeyLeftovers:
    """Counts of ``handler`` runs, state rows and promises that ``(service, key)`` still has.

    One round trip: uncorrelated scalar subqueries work on 1.7.12. Promises matter because
    state clearing never deletes them and no admin API can (restatedev/restate#4909).
    """
    keyed = f"service_name = {literal(service)} AND service_key = {literal(key)}"
    runs = (
        f"target_service_name = {literal(service)} AND target_service_key = {literal(key)} "
        f"AND target_handler_name = {literal(handler)}"
    )
    sql = (
        f"SELECT (SELECT count(*) FROM sys_invocation WHERE {runs}) AS runs, "  # noqa: S608 - literal()
        f"(SELECT count(*) FROM state WHERE {keyed}) AS state_rows, "
        f"(SELECT count(*) FROM sys_promise WHERE {keyed}) AS promises"
    )
    rows = _rows(_LeftoverRow, await admin.query(sql), "leftover count")
    if len(rows) != 1:
        raise AdminRequestFailed("POST", "/query", 200, f"expected one row, got {len(rows)}")
    row = rows[0]
    return KeyLeftovers(runs=row.runs, state_rows=row.state_rows, promises=row.promises)


# --- what the watcher counts (core.watch) ----------------------------------------------------


@dataclass(frozen=True)
class ServiceStuck:
    """Invocations of one service that keep retrying (backing-off) or gave up (paused)."""

    paused: int = 0
    backing_off: int = 0


class _StuckCountRow(_Row):
    service: str
    status: str
    n: int


async def stuck_by_service(admin: RestateAdminClient) -> dict[str, ServiceStuck]:
    """Paused and backing-off counts per service (Restate exports neither per service)."""
    statuses = ", ".join(literal(status) for status in STUCK_STATUSES)
    sql = (
        "SELECT target_service_name AS service, status, count(*) AS n "  # noqa: S608 - literal() only
        f"FROM sys_invocation WHERE status IN ({statuses}) "
        "GROUP BY target_service_name, status"
    )
    found: dict[str, ServiceStuck] = {}
    for row in _rows(_StuckCountRow, await admin.query(sql), "stuck count"):
        current = found.get(row.service, ServiceStuck())
        if row.status == "paused":
            found[row.service] = ServiceStuck(row.n, current.backing_off)
        else:
            found[row.service] = ServiceStuck(current.paused, row.n)
    return found


class _ServiceCountRow(_Row):
    service: str
    n: int


async def failures_since(admin: RestateAdminClient, since: datetime) -> dict[str, int]:
    """Terminal failures per service that completed after ``since``."""
    sql = (
        "SELECT target_service_name AS service, count(*) AS n FROM sys_invocation "  # noqa: S608 - literal() only
        "WHERE status = 'completed' AND completion_result = 'failure' "
        f"AND completed_at > {literal(iso_utc(since))} GROUP BY target_service_name"
    )
    return {row.service: row.n for row in _rows(_ServiceCountRow, await admin.query(sql), "count")}


async def backing_off_before(admin: RestateAdminClient, created_before: datetime) -> dict[str, int]:
    """Backing-off invocations per service that were created before ``created_before``."""
    sql = (
        "SELECT target_service_name AS service, count(*) AS n FROM sys_invocation "  # noqa: S608 - literal() only
        f"WHERE status = 'backing-off' AND created_at < {literal(iso_utc(created_before))} "
        "GROUP BY target_service_name"
    )
    return {row.service: row.n for row in _rows(_ServiceCountRow, await admin.query(sql), "count")}


class _ZombieRow(_Row):
    deployment_id: str
    n: int


async def zombie_pins(admin: RestateAdminClient) -> dict[str, int]:
    """Non-completed invocations pinned to a deployment that is no longer registered (RT0011).

    They back off forever: Restate cannot find the code they were started on.
    """
    sql = (
        "SELECT pinned_deployment_id AS deployment_id, count(*) AS n FROM sys_invocation "
        "WHERE status != 'completed' AND pinned_deployment_id IS NOT NULL "
        "AND pinned_deployment_id NOT IN (SELECT id FROM sys_deployment) "
        "GROUP BY pinned_deployment_id"
    )
    return {row.deployment_id: row.n for row in _rows(_ZombieRow, await admin.query(sql), "pin")}
