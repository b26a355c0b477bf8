"""Bulk actions in Redis: one hash per action, every state change one atomic script.

Replicas share one Redis, so approval, the start of execution and cancellation are each decided
by a Lua script (one step, no read-then-write race): of two operators clicking "Approve" or "Run"
on two replicas, exactly one wins. The stop flag is a field of the same hash, read between items.

    state: pending ──approve──> approved ──claim──> running ──finish──> finished
              │  └──────────────────claim (no approval needed)──┘   │
              └──cancel──> cancelled (also from approved;           └──no checkpoint within
                           from running it sets the stop flag)        LIVENESS_WINDOW──> interrupted

**Liveness.** A running action carries ``alive_until_ms``: set by the claim, pushed forward by
the run's checkpoint before each item (the same script returns the stop flag). A process that
dies (SIGKILL, OOM, node lost) stops checkpointing, and once ``alive_until_ms`` has passed the
action reads ``interrupted`` (:func:`action_state`; the approve, claim and cancel scripts apply
the same rule): it is never approved, claimed or cancelled again, since its items may be half
done. The hash keeps
``state=running``; "interrupted" is read from the deadline, so a run that was only cut off from
Redis for longer than the window reads ``running`` again at its next checkpoint. Times are the
caller's (``now_ms``), so replicas' clocks must agree to well within the window.

An approval expires: a claim after ``approval_ttl`` puts the action back to ``pending``, so a
fresh approval is needed. The hash expires after ``ttl`` (its report after ``report_ttl``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any, Literal, TypeVar, get_args

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from core.errors import (
    ApprovalRequired,
    InvalidInput,
    PendingActionUnavailable,
    SelfApprovalRefused,
)
from core.triage.models import INTERRUPTED_MESSAGE, ActionState, BulkAction, BulkReport

_T = TypeVar("_T")

#: How long a running action stays "running" without a checkpoint. A checkpoint comes before
#: every item, from any of the run's workers, so the gap is at most one item: one admin call
#: (10 s timeout) for most actions, about seven for recover (~80 s worst case) plus the
#: re-check query. Three minutes is far beyond that, yet a dead run reads "interrupted" soon.
LIVENESS_WINDOW = timedelta(minutes=3)

# The liveness rule, once for every script that refuses an interrupted action (``action_state``
# is the same rule for Python readers). HMGET gives false for a missing field: older claims.
_INTERRUPTED = """
local function interrupted(state, alive_until, now)
  return state == 'running' and alive_until and tonumber(alive_until) < tonumber(now)
end
"""

_APPROVE = (
    _INTERRUPTED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local f = redis.call('HMGET', KEYS[1], 'state', 'needs_approval', 'requested_by', 'alive_until_ms')
if f[2] ~= '1' then return 'not-needed' end
if interrupted(f[1], f[4], ARGV[2]) then return 'interrupted' end
if f[1] ~= 'pending' then return f[1] end
if f[3] == ARGV[1] then return 'self' end
redis.call('HSET', KEYS[1], 'state', 'approved', 'approved_by', ARGV[1], 'approved_at_ms', ARGV[2])
return 'ok'
"""
)

_CLAIM = (
    _INTERRUPTED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local f = redis.call('HMGET', KEYS[1],
  'state', 'needs_approval', 'approved_at_ms', 'alive_until_ms')
if interrupted(f[1], f[4], ARGV[2]) then return 'interrupted' end
if f[2] == '1' then
  if f[1] == 'pending' then return 'needs-approval' end
  if f[1] ~= 'approved' then return f[1] end
  if tonumber(ARGV[2]) - tonumber(f[3]) > tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'state', 'pending')
    redis.call('HDEL', KEYS[1], 'approved_by', 'approved_at_ms')
    return 'approval-expired'
  end
elseif f[1] ~= 'pending' then
  return f[1]
end
redis.call('HSET', KEYS[1], 'state', 'running', 'executed_by', ARGV[1], 'alive_until_ms', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 'ok'
"""
)

_CANCEL = (
    _INTERRUPTED
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local f = redis.call('HMGET', KEYS[1], 'state', 'alive_until_ms')
local state = f[1]
if state == 'pending' or state == 'approved' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'stopped_by', ARGV[1])
  return 'cancelled'
end
if interrupted(state, f[2], ARGV[2]) then return 'interrupted' end
if state == 'running' then
  redis.call('HSETNX', KEYS[1], 'stopped_by', ARGV[1])
  return 'stopping'
end
return state
"""
)

_CHECKPOINT = """
local f = redis.call('HMGET', KEYS[1], 'state', 'stopped_by')
if f[1] == 'running' then redis.call('HSET', KEYS[1], 'alive_until_ms', ARGV[1]) end
return f[2]
"""

CancelResult = Literal["cancelled", "stopping", "finished"]


class BulkActionStore:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "restate-ops:triage:",
        ttl: timedelta = timedelta(minutes=15),
        approval_ttl: timedelta = timedelta(minutes=10),
        report_ttl: timedelta = timedelta(days=1),
        liveness: timedelta = LIVENESS_WINDOW,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._approval_ttl = approval_ttl
        self._report_ttl = report_ttl
        self._liveness_ms = int(liveness.total_seconds() * 1000)
        self._approve = redis.register_script(_APPROVE)
        self._claim = redis.register_script(_CLAIM)
        self._cancel = redis.register_script(_CANCEL)
        self._checkpoint = redis.register_script(_CHECKPOINT)

    def _key(self, action_id: str) -> str:
        return f"{self._prefix}action:{action_id}"

    async def save(self, action: BulkAction) -> None:
        key = self._key(action.id)
        fields: dict[FieldT, EncodableT] = {
            "payload": action.model_dump_json(by_alias=True),
            "state": "pending",
            "requested_by": action.requested_by,
            "needs_approval": "1" if action.needs_approval else "0",
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self._ttl)
            await self._call("store the action", pipe.execute())

    async def load(self, action_id: str) -> tuple[BulkAction, dict[str, str]]:
        """The action and its state fields; unknown or expired ids are unavailable."""
        raw: dict[Any, Any] = await self._call(
            "read the action", self._redis.hgetall(self._key(action_id))
        )
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if "payload" not in fields:
            raise PendingActionUnavailable(
                "This action has expired or does not exist. Query the invocations again."
            )
        try:
            action = BulkAction.model_validate_json(fields.pop("payload"))
        except ValidationError as exc:
            raise PendingActionUnavailable("The stored action could not be read.") from exc
        return action, fields

    async def approve(self, action_id: str, approver: str, now_ms: int) -> None:
        result = _text(
            await self._call(
                "approve", self._approve(keys=[self._key(action_id)], args=[approver, now_ms])
            )
        )
        if result == "self":
            raise SelfApprovalRefused(
                f"{approver} requested this action and cannot approve it: the two-person rule "
                "needs a second operator."
            )
        if result == "not-needed":
            raise InvalidInput("actionId", "names an action that does not need an approval")
        if result != "ok":
            raise _unavailable(result)

    async def claim(self, action_id: str, executor: str, now_ms: int) -> None:
        """Move the action to ``running`` once, alive for the liveness window; every other
        caller is refused with the reason."""
        approval_ms = int(self._approval_ttl.total_seconds() * 1000)
        run_ttl = int(self._report_ttl.total_seconds())
        alive_until = now_ms + self._liveness_ms
        args: list[EncodableT] = [executor, now_ms, approval_ms, run_ttl, alive_until]
        result = _text(
            await self._call(
                "start the action", self._claim(keys=[self._key(action_id)], args=args)
            )
        )
        if result == "needs-approval":
            raise ApprovalRequired(
                "This action needs a second operator's approval before it runs.",
                data={"actionId": action_id},
            )
        if result == "approval-expired":
            raise ApprovalRequired(
                "The approval of this action has expired; it needs a new approval.",
                data={"actionId": action_id},
            )
        if result != "ok":
            raise _unavailable(result)

    async def cancel(self, action_id: str, who: str, now_ms: int) -> CancelResult:
        """Withdraw a pending action, or ask a running one to stop after its current items; an
        interrupted one is refused."""
        result = _text(
            await self._call(
                "cancel", self._cancel(keys=[self._key(action_id)], args=[who, now_ms])
            )
        )
        if result in ("cancelled", "stopping", "finished"):
            return result  # type: ignore[return-value]  # narrowed by the check above
        raise _unavailable(result)

    async def checkpoint(self, action_id: str, now_ms: int) -> str | None:
        """Between items: keep a running action alive for the liveness window from ``now_ms``,
        and return who asked it to stop (None: go on)."""
        alive_until = now_ms + self._liveness_ms
        value = await self._call(
            "checkpoint the run",
            self._checkpoint(keys=[self._key(action_id)], args=[alive_until]),
        )
        return None if value is None else _text(value)

    async def count(self, action_id: str, outcome: str) -> None:
        """One more item with ``outcome`` (done, skipped, failed), for readers of a run."""
        await self._call("count", self._redis.hincrby(self._key(action_id), outcome, 1))

    async def finish(self, report: BulkReport) -> None:
        key = self._key(report.action_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"state": "finished"})
            pipe.set(f"{key}:report", report.model_dump_json(by_alias=True), ex=self._report_ttl)
            await self._call("store the report", pipe.execute())

    async def report(self, action_id: str) -> BulkReport | None:
        raw = await self._call("read the report", self._redis.get(f"{self._key(action_id)}:report"))
        return None if raw is None else BulkReport.model_validate_json(raw)

    async def _call(self, what: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not {what} in Redis: {type(exc).__name__}: {exc}"
            ) from exc


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def action_state(fields: Mapping[str, str], now_ms: int) -> ActionState:
    """The state of an action's hash at ``now_ms``: ``running`` past its liveness deadline
    reads ``interrupted`` (the rule the approve, claim and cancel scripts apply too)."""
    state = fields.get("state", "pending")
    alive_until = fields.get("alive_until_ms")
    if state == "running" and alive_until is not None and int(alive_until) < now_ms:
        return "interrupted"
    if state in get_args(ActionState):
        return state  # type: ignore[return-value]  # narrowed by the check above
    raise PendingActionUnavailable(f"The stored action has an unknown state {state!r}.")


def _unavailable(state: str) -> PendingActionUnavailable:
    messages = {
        "missing": "This action has expired or does not exist. Query the invocations again.",
        "running": "This action is already running.",
        "finished": "This action has already run.",
        "cancelled": "This action was cancelled.",
        "approved": "This action is already approved.",
        "interrupted": INTERRUPTED_MESSAGE,
    }
    return PendingActionUnavailable(
        messages.get(state, f"This action is {state}."), data={"state": state}
    )
