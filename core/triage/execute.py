"""Run a stored bulk action on exactly its previewed invocations, a bounded number at a time.

The filter is never run again. ``concurrency`` workers take the items in order; the
items are re-read from ``sys_invocation`` a chunk at a time (one query per chunk, read ahead so
no worker waits for it), and an item whose state no longer fits the action is skipped with the
reason (gone, replaced by a new run with the same id, or in a status the action does not apply
to). At most ``concurrency`` actions are in flight, and one read-ahead query.
Before each item the run checkpoints: one atomic store call that keeps the action alive (so a
run whose process died reads "interrupted" once its liveness window passes, see
``core.triage.store``) and returns the stop flag; once that is set, the items not yet started
are skipped as "stopped", so the report always says what was and was not done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.errors import OpsError
from core.restate.client import RestateAdminClient
from core.triage.actions import apply, eligible
from core.triage.models import BulkAction, ItemOutcome, TriageItem
from core.triage.select import CurrentState, current_states, normalize_timestamp

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
#: Items re-checked by one query; small enough that the check is fresh when the item's turn comes.
RECHECK_CHUNK = 100

Progress = Callable[[ItemOutcome], Awaitable[None]]
#: One chunk's current states, or why they could not be read (its items then fail).
Rechecked = dict[str, CurrentState] | OpsError


def recheck(action: BulkAction, item: TriageItem, now: CurrentState | None) -> str | None:
    """Why ``item`` must be skipped now, or None when the action still applies to it."""
    if now is None:
        return f"no longer exists (was {item.status})"
    if normalize_timestamp(now.created_at) != normalize_timestamp(item.created_at):
        return "a new run with the same id replaced the previewed one"
    if not eligible(action.action, item, now.status, now.completion_result):
        was = _shown(item.status, item.completion_result)
        return f"changed state: now {_shown(now.status, now.completion_result)}, was {was}"
    return None


def _shown(status: str, result: str | None) -> str:
    return f"{status} ({result})" if status == "completed" and result else status


class Checkpoint(Protocol):
    """Where a run shows it is alive and reads a stop request (``BulkActionStore`` in
    production)."""

    async def checkpoint(self, action_id: str, now_ms: int) -> str | None:
        """Keep the running action alive from ``now_ms``; who asked it to stop, or None."""
        ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Executor:
    def __init__(
        self,
        admin: RestateAdminClient,
        store: Checkpoint,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._admin = admin
        self._store = store
        self._concurrency = concurrency
        self._now_ms = now_ms

    async def run(
        self, action: BulkAction, on_item: Progress | None = None
    ) -> tuple[list[ItemOutcome], str | None]:
        """Outcomes in the previewed order, and who stopped the run (None if nobody did)."""
        outcomes: dict[str, ItemOutcome] = {}
        stopped: list[str] = []
        items = list(enumerate(action.items))
        queue = iter(items)  # shared by the workers: each item is taken exactly once
        chunks: dict[int, asyncio.Task[Rechecked]] = {}

        async def record(outcome: ItemOutcome) -> None:
            outcomes[outcome.id] = outcome
            if on_item is not None:
                await on_item(outcome)

        def states(group: asyncio.TaskGroup, chunk: int) -> asyncio.Task[Rechecked]:
            """The re-check of one chunk, started once by whichever worker needs it first."""
            if chunk not in chunks:
                part = action.items[chunk * RECHECK_CHUNK : (chunk + 1) * RECHECK_CHUNK]
                chunks[chunk] = group.create_task(self._recheck([item.id for item in part]))
            return chunks[chunk]

        async def one(group: asyncio.TaskGroup, index: int, item: TriageItem) -> ItemOutcome:
            if not stopped:
                who = await self._checkpoint(action.id)
                if who is not None:
                    stopped.append(who)
            if stopped:
                return _skip(item, f"stopped by {stopped[0]} before it was reached")
            chunk, offset = divmod(index, RECHECK_CHUNK)
            if offset == RECHECK_CHUNK * 3 // 4 and (chunk + 1) * RECHECK_CHUNK < len(items):
                states(group, chunk + 1)  # read ahead: the next chunk is ready when needed
            current = await states(group, chunk)
            if isinstance(current, OpsError):
                return ItemOutcome(
                    id=item.id, outcome="failed", detail=f"re-check: {current.message}"
                )
            reason = recheck(action, item, current.get(item.id))
            if reason is not None:
                return _skip(item, reason)
            return await apply(self._admin, action.action, item, action.deployment)

        async def worker(group: asyncio.TaskGroup) -> None:
            for index, item in queue:
                await record(await one(group, index, item))

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self._concurrency, len(items))):
                group.create_task(worker(group))
        return [outcomes[item.id] for item in action.items], (stopped[0] if stopped else None)

    async def _recheck(self, ids: list[str]) -> Rechecked:
        try:
            return await current_states(self._admin, ids)
        except OpsError as exc:
            return exc

    async def _checkpoint(self, action_id: str) -> str | None:
        try:
            return await self._store.checkpoint(action_id, self._now_ms())
        except OpsError as exc:
            # Redis is down: nobody can ask to stop now (nor read the run's state), and the run
            # must not die half-way; the next checkpoint that gets through keeps it alive again.
            log.warning("checkpoint of %s failed, going on: %s", action_id, exc.message)
            return None


def _skip(item: TriageItem, reason: str) -> ItemOutcome:
    return ItemOutcome(id=item.id, outcome="skipped", detail=reason)
