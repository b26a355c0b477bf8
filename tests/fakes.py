"""Hand-written fakes for unit tests (no network)."""

from __future__ import annotations

from core.audit import AttemptFinish, AttemptStart, AttemptView
from core.errors import AuditUnavailable


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
