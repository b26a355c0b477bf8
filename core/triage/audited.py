"""One audited attempt per triage call, as a context manager: start, then finish with the outcome.

    async with audited.attempt(attempt, "invocations-approve", args, fail_closed=True) as rec:
        ...                   # an OpsError leaves as the attempt's outcome, with its request id
        rec.message = "..."   # optional: what the finish entry says; rec.items: per-item outcomes

``fail_closed``: a write refuses to start when its start cannot be recorded (``AuditUnavailable``);
a read answers anyway and logs that it went unrecorded. An exception that is not an ``OpsError``
(a bug, a cancelled task) still finishes the attempt, as ``failed``, before it propagates.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from core.audit import AttemptFinish, AttemptStart, AuditLog, Outcome
from core.errors import ApprovalRequired, AuditUnavailable, OpsError, SelfApprovalRefused
from core.ids import new_id
from core.operations import Attempt, outcome_of
from core.redact import sanitize

log = logging.getLogger(__name__)


@dataclass
class Recorder:
    """What the finish entry will say when the block ends without an error."""

    outcome: Outcome = "succeeded"
    message: str | None = None
    items: list[dict[str, Any]] | None = None


def outcome(error: OpsError) -> Outcome:
    """The two-person rule's refusals read as such in the audit: denied, or blocked."""
    if isinstance(error, SelfApprovalRefused):
        return "denied"
    if isinstance(error, ApprovalRequired):
        return "blocked"
    return outcome_of(error)


class AuditedAttempts:
    def __init__(self, audit: AuditLog, now: Callable[[], datetime]) -> None:
        self._audit = audit
        self._now = now

    @asynccontextmanager
    async def attempt(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], *, fail_closed: bool
    ) -> AsyncIterator[Recorder]:
        start = await self._begin(attempt, route, args, fail_closed=fail_closed)
        recorder = Recorder()
        try:
            yield recorder
        except OpsError as exc:
            await self._end(start, outcome(exc), exc.code, exc.message)
            raise exc.with_request_id(attempt.request_id) from None
        except BaseException as exc:
            await self._end(start, "failed", None, f"broke off: {type(exc).__name__}: {exc}")
            raise
        await self._end(start, recorder.outcome, None, recorder.message, recorder.items)

    async def refuse(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], error: OpsError
    ) -> NoReturn:
        """Audit (best effort: nothing changes) and raise a refusal decided before the work."""
        async with self.attempt(attempt, route, args, fail_closed=False):
            raise error

    async def _begin(
        self, attempt: Attempt, route: str, args: Mapping[str, Any], *, fail_closed: bool
    ) -> AttemptStart | None:
        start = AttemptStart(
            attempt_id=new_id("att"),
            request_id=attempt.request_id,
            actor=attempt.actor,
            route=route,
            args=sanitize(dict(args)),
            reason=attempt.reason,
            started_at=self._now(),
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
        result: Outcome,
        code: str | None,
        message: str | None,
        items: list[dict[str, Any]] | None = None,
    ) -> None:
        if start is None:
            return
        finish = AttemptFinish(
            attempt_id=start.attempt_id,
            request_id=start.request_id,
            outcome=result,
            finished_at=self._now(),
            error_code=code,
            error_message=message,
            items=items,
        )
        await self._audit.record_finish(finish)
