"""A running bulk action's liveness: the state read from its deadline, the run's checkpoints."""

from __future__ import annotations

import json
import re

import httpx2
import pytest

from core.errors import PendingActionUnavailable
from core.restate.client import RestateAdminClient
from core.triage.execute import Executor
from core.triage.models import BulkAction, TriageItem
from core.triage.store import action_state

CREATED = "2026-12-02T06:00:00.000Z"
_IDS = re.compile(r"'(inv_[^']+)'")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"state": "running", "alive_until_ms": "1000"}, "running"),
        ({"state": "running", "alive_until_ms": "999"}, "interrupted"),
        ({"state": "running"}, "running"),
        ({"state": "finished", "alive_until_ms": "1"}, "finished"),
        ({"state": "cancelled"}, "cancelled"),
        ({"state": "approved"}, "approved"),
        ({}, "pending"),
    ],
)
def test_a_running_action_past_its_deadline_reads_interrupted(
    fields: dict[str, str], expected: str
) -> None:
    """At 1000 ms, only a running action whose deadline is earlier reads interrupted."""
    assert expected == action_state(fields, 1000)


def test_an_unknown_stored_state_is_refused() -> None:
    """A hash with a state no version writes is unavailable, not passed on."""
    with pytest.raises(PendingActionUnavailable, match="unknown state"):
        action_state({"state": "exploded"}, 0)


class Checkpoints:
    """A store's checkpoint: records each call's time; stop or fail from the n-th call on."""

    def __init__(self, *, stop_by: str | None = None, stop_at: int = 0, down: bool = False):
        self.times: list[int] = []
        self._stop_by = stop_by
        self._stop_at = stop_at
        self._down = down

    async def checkpoint(self, action_id: str, now_ms: int) -> str | None:
        self.times.append(now_ms)
        if self._down:
            raise PendingActionUnavailable("Could not checkpoint the run in Redis: ConnectionError")
        return self._stop_by if len(self.times) > self._stop_at else None


def _admin_answer(request: httpx2.Request) -> httpx2.Response:
    """Every previewed id is still paused; every kill succeeds."""
    if request.url.path == "/query":
        sql = json.loads(request.content)["query"]
        rows = [{"id": i, "status": "paused", "created_at": CREATED} for i in _IDS.findall(sql)]
        return httpx2.Response(200, json={"rows": rows}, request=request)
    return httpx2.Response(200, request=request)


def _action(size: int) -> BulkAction:
    return BulkAction(
        id="bulk_live",
        action="kill",
        filter="test",
        items=[
            TriageItem(id=f"inv_{n}", service="Wf", status="paused", created_at=CREATED)
            for n in range(size)
        ],
        total_matched=size,
        requested_by="alice",
        requested_at=CREATED,
        needs_approval=False,
        request_id="req_1",
    )


async def _run(store: Checkpoints, size: int) -> list[tuple[str, str | None]]:
    clock = iter(range(1000, 100_000, 1000))
    transport = httpx2.MockTransport(_admin_answer)
    async with RestateAdminClient("http://admin.test", transport=transport) as admin:
        executor = Executor(admin, store, concurrency=1, now_ms=lambda: next(clock))
        outcomes, _ = await executor.run(_action(size))
    return [(o.outcome, o.detail) for o in outcomes]


async def test_the_run_checkpoints_before_each_item_with_the_callers_clock() -> None:
    """Three items, three checkpoints, each at the clock's time then."""
    store = Checkpoints()

    outcomes = await _run(store, 3)

    assert outcomes == [("done", None)] * 3
    assert store.times == [1000, 2000, 3000]


async def test_a_checkpoint_that_returns_a_stop_skips_the_items_not_reached() -> None:
    """The second checkpoint says bob asked to stop: one done, the rest skipped as stopped."""
    store = Checkpoints(stop_by="bob", stop_at=1)

    outcomes = await _run(store, 3)

    stopped = ("skipped", "stopped by bob before it was reached")
    assert [("done", None), stopped, stopped] == outcomes
    assert store.times == [1000, 2000]


async def test_a_checkpoint_redis_cannot_take_lets_the_run_go_on() -> None:
    """Redis down at every checkpoint: the run still acts on every item."""
    store = Checkpoints(down=True)

    outcomes = await _run(store, 3)

    assert outcomes == [("done", None)] * 3
    assert len(store.times) == 3
