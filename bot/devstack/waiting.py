"""Poll Restate's SQL introspection until a workflow run reaches a status.

Works with any object that has `async query(sql) -> list[dict]`, i.e. the product's
`core.restate.client.RestateAdminClient`; the local stack has no admin client of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from core.restate.sql import literal

DEFAULT_POLL_INTERVAL = 0.1


class SqlQuerier(Protocol):
    async def query(self, sql: str) -> list[dict[str, Any]]: ...


class StatusTimeoutError(TimeoutError):
    """The run did not reach any of the wanted statuses in time."""

    def __init__(self, message: str, last_row: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.last_row = last_row


def invocation_sql(service: str, key: str, handler: str = "run") -> str:
    # Every interpolated value goes through literal(): /query has no bind parameters.
    return (
        "SELECT id, target, status, completion_result, completion_failure, retry_count, "  # noqa: S608
        "last_failure, last_failure_error_code, pinned_deployment_id, created_at, modified_at "
        f"FROM sys_invocation WHERE target_service_name = {literal(service)} "
        f"AND target_service_key = {literal(key)} "
        f"AND target_handler_name = {literal(handler)} "
        "ORDER BY created_at DESC LIMIT 1"
    )


async def invocation_row(
    admin: SqlQuerier, service: str, key: str, handler: str = "run"
) -> dict[str, Any] | None:
    """The latest `handler` invocation of (service, key), or None. Null columns are absent."""
    rows = await admin.query(invocation_sql(service, key, handler))
    return rows[0] if rows else None


async def wait_for_status(
    admin: SqlQuerier,
    service: str,
    key: str,
    statuses: str | Iterable[str],
    timeout: float = 20.0,  # noqa: ASYNC109 - a polling deadline, checked between queries
    *,
    handler: str = "run",
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> dict[str, Any]:
    """Poll `sys_invocation` until the key's `handler` invocation has one of `statuses`.

    Returns that row (e.g. `status`, `completion_result`, `completion_failure`, `retry_count`).
    Raises StatusTimeoutError with the last row seen when `timeout` passes first.
    """
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    row: dict[str, Any] | None = None
    while True:
        row = await invocation_row(admin, service, key, handler)
        if row is not None and row.get("status") in wanted:
            return row
        if time.monotonic() >= deadline:
            seen = "no invocation" if row is None else f"last row {row}"
            target = f"{service}/{key}/{handler}"
            raise StatusTimeoutError(
                f"{target} did not reach {sorted(wanted)} in {timeout:.0f}s; {seen}",
                row,
            )
        await asyncio.sleep(poll_interval)


class InvocationAdmin(SqlQuerier, Protocol):
    async def kill_invocation(self, invocation_id: str) -> None: ...
    async def purge_invocation(self, invocation_id: str) -> None: ...


@contextlib.asynccontextmanager
async def discarded_afterwards(
    admin: InvocationAdmin, service: str, key: str
) -> AsyncIterator[None]:
    """Kill and purge the key's run at the end, so a stuck run stops retrying on a shared server
    for the rest of the session (tests share one server)."""
    try:
        yield
    finally:
        row = await invocation_row(admin, service, key)
        if row is not None:
            if row.get("status") != "completed":
                await admin.kill_invocation(row["id"])
                await wait_for_status(admin, service, key, "completed", 10)
            await admin.purge_invocation(row["id"])
