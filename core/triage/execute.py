"""Run a stored bulk action on exactly its previewed invocations, a bounded number at a time.

The filter is never run again. The items are taken in chunks: each chunk is re-read from
``sys_invocation`` in one query just before its items are acted on, and an item whose state no
longer fits the action is skipped with the reason (gone, replaced by a new run with the same id,
or in a status the action does not apply to). At most ``concurrency`` admin calls are in flight.
The stop flag is read before each item; once it is set, the items not yet started are skipped
as "stopped", so the report always says what was and was not done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from core.errors import OpsError
from core.restate.client import RestateAdminClient
from core.restate.queries import normalize_timestamp
from core.triage.actions import apply, eligible
from core.triage.models import BulkAction, ItemOutcome, TriageItem
from core.triage.select import CurrentState, current_states
from core.triage.store import BulkActionStore

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
#: Items re-checked by one query; small enough that the check is fresh when the item's turn comes.
RECHECK_CHUNK = 100

Progress = Callable[[ItemOutcome], Awaitable[None]]


def recheck(action: BulkAction, item: TriageItem, now: CurrentState | None) -> str | None:
    """Why ``item`` must be skipped now, or None when the action still applies to it."""
    if now is None:
        return f"no longer exists (was {item.status})"
    if normalize_timestamp(now.created_at) != item.created_at:
        return "a new run with the same id replaced the previewed one"
    if not eligible(action.action, item, now.status, now.completion_result):
        was = _shown(item.status, item.completion_result)
        return f"changed state: now {_shown(now.status, now.completion_result)}, was {was}"
    return None


def _shown(status: str, result: str | None) -> str:
    return f"{status} ({result})" if status == "completed" and result else status


class Executor:
    def __init__(
        self,
        admin: RestateAdminClient,
        store: BulkActionStore,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._admin = admin
        self._store = store
        self._concurrency = concurrency

    async def run(
        self, action: BulkAction, on_item: Progress | None = None
    ) -> tuple[list[ItemOutcome], str | None]:
        """Outcomes in the previewed order, and who stopped the run (None if nobody did)."""
        outcomes: dict[str, ItemOutcome] = {}
        slots = asyncio.Semaphore(self._concurrency)
        stopped: list[str] = []

        async def record(outcome: ItemOutcome) -> None:
            outcomes[outcome.id] = outcome
            if on_item is not None:
                await on_item(outcome)

        async def one(item: TriageItem, state: CurrentState | None) -> None:
            async with slots:
                if not stopped:
                    who = await self._stop_requested(action.id)
                    if who is not None:
                        stopped.append(who)
                if stopped:
                    await record(_skip(item, f"stopped by {stopped[0]} before it was reached"))
                    return
                reason = recheck(action, item, state)
                if reason is not None:
                    await record(_skip(item, reason))
                    return
                await record(await apply(self._admin, action.action, item, action.deployment))

        for chunk in _chunks(action.items, RECHECK_CHUNK):
            if stopped:
                for item in chunk:
                    await record(_skip(item, f"stopped by {stopped[0]} before it was reached"))
                continue
            try:
                states = await current_states(self._admin, [item.id for item in chunk])
            except OpsError as exc:
                for item in chunk:
                    await record(
                        ItemOutcome(id=item.id, outcome="failed", detail=f"re-check: {exc.message}")
                    )
                continue
            async with asyncio.TaskGroup() as group:
                for item in chunk:
                    group.create_task(one(item, states.get(item.id)))
        return [outcomes[item.id] for item in action.items], (stopped[0] if stopped else None)

    async def _stop_requested(self, action_id: str) -> str | None:
        try:
            return await self._store.stopped_by(action_id)
        except OpsError as exc:
            # Redis is down: nobody can ask to stop now, and the run must not die half-way.
            log.warning("stop flag of %s unreadable, going on: %s", action_id, exc.message)
            return None


def _skip(item: TriageItem, reason: str) -> ItemOutcome:
    return ItemOutcome(id=item.id, outcome="skipped", detail=reason)


def _chunks(items: Sequence[TriageItem], size: int) -> list[Sequence[TriageItem]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
