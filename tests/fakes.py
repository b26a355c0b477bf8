"""Hand-written fakes for unit tests (no network)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from core.audit import AttemptFinish, AttemptStart, AttemptView
from core.environments import DEFAULT_ENVIRONMENT
from core.errors import AuditUnavailable, PendingActionUnavailable, SelfApprovalRefused
from core.pending import Claimed, PendingAction


class FakeAuditLog:
    """An in-memory audit store that can be switched off to test fail-closed behaviour."""

    def __init__(self) -> None:
        self.starts: list[AttemptStart] = []
        self.finishes: list[AttemptFinish] = []
        self.available = True
        self.finish_available = True

    async def record_start(self, start: AttemptStart) -> None:
        if not self.available:
            raise AuditUnavailable("audit store is down (fake)")
        self.starts.append(start)

    async def record_finish(self, finish: AttemptFinish) -> bool:
        if not (self.available and self.finish_available):
            return False
        self.finishes.append(finish)
        return True

    async def latest(self, count: int) -> list[AttemptView]:
        finishes = {finish.attempt_id: finish for finish in self.finishes}
        views = [AttemptView(start=s, finish=finishes.get(s.attempt_id)) for s in self.starts]
        return list(reversed(views))[:count]

    def outcomes(self) -> list[tuple[str, str]]:
        routes = {start.attempt_id: start.route for start in self.starts}
        return [(routes[f.attempt_id], f.outcome) for f in self.finishes]


class FakeHeldWrites:
    """An in-memory ``core.two_person.HeldWrites``: what ``core.pending`` does in one Lua script
    (refuse the requester, expire at ``expires_at``, claim once), on a clock the test moves."""

    def __init__(self, now: Callable[[], datetime], ttl: timedelta = timedelta(minutes=15)) -> None:
        self.now = now
        self.ttl = ttl
        self.held: dict[str, PendingAction] = {}
        self._ids = itertools.count(1)

    async def hold(self, action: PendingAction, requested_by: str) -> tuple[str, PendingAction]:
        expires_at = self.now() + self.ttl
        held = action.model_copy(update={"requested_by": requested_by, "expires_at": expires_at})
        approval_id = f"apr_{next(self._ids):032x}"
        self.held[approval_id] = held
        return approval_id, held

    async def claim_as(
        self, action_id: str, *, by: str | None, environment: str = DEFAULT_ENVIRONMENT
    ) -> Claimed:
        action = await self.peek(action_id, environment)
        if action is None:
            raise PendingActionUnavailable("This action has expired or was already used.")
        assert action.expires_at is not None
        if self.now() >= action.expires_at:
            del self.held[action_id]
            raise PendingActionUnavailable("expired", data={"state": "expired"})
        if by is None or by == action.requested_by:
            raise SelfApprovalRefused(f"{by} requested this and cannot approve it.")
        del self.held[action_id]
        return Claimed(action_id, action, by)

    async def peek(
        self, action_id: str, environment: str = DEFAULT_ENVIRONMENT
    ) -> PendingAction | None:
        action = self.held.get(action_id)  # each environment has its own key space
        return action if action is not None and action.environment == environment else None
