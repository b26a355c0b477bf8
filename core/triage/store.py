"""Bulk actions in Redis: one hash per action, every state change one atomic script.

Replicas share one Redis, so approval, the start of execution and cancellation are each decided
by a Lua script (one step, no read-then-write race): of two operators clicking "Approve" or "Run"
on two replicas, exactly one wins. The stop flag is a field of the same hash, read between items.

    state: pending ──approve──> approved ──claim──> running ──finish──> finished
              │  └──────────────────claim (no approval needed)──┘
              └──cancel──> cancelled (also from approved; from running it sets the stop flag)

An approval expires: a claim after ``approval_ttl`` puts the action back to ``pending``, so a
fresh approval is needed. The hash expires after ``ttl`` (its report after ``report_ttl``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, Literal, TypeVar

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
from core.triage.models import BulkAction, BulkReport

_T = TypeVar("_T")

_APPROVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local f = redis.call('HMGET', KEYS[1], 'state', 'needs_approval', 'requested_by')
if f[2] ~= '1' then return 'not-needed' end
if f[1] ~= 'pending' then return f[1] end
if f[3] == ARGV[1] then return 'self' end
redis.call('HSET', KEYS[1], 'state', 'approved', 'approved_by', ARGV[1], 'approved_at_ms', ARGV[2])
return 'ok'
"""

_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local f = redis.call('HMGET', KEYS[1], 'state', 'needs_approval', 'approved_at_ms')
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
redis.call('HSET', KEYS[1], 'state', 'running', 'executed_by', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 'ok'
"""

_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'pending' or state == 'approved' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'stopped_by', ARGV[1])
  return 'cancelled'
end
if state == 'running' then
  redis.call('HSETNX', KEYS[1], 'stopped_by', ARGV[1])
  return 'stopping'
end
return state
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
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._approval_ttl = approval_ttl
        self._report_ttl = report_ttl
        self._approve = redis.register_script(_APPROVE)
        self._claim = redis.register_script(_CLAIM)
        self._cancel = redis.register_script(_CANCEL)

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
        """Move the action to ``running`` once; every other caller is refused with the reason."""
        approval_ms = int(self._approval_ttl.total_seconds() * 1000)
        run_ttl = int(self._report_ttl.total_seconds())
        result = _text(
            await self._call(
                "start the action",
                self._claim(
                    keys=[self._key(action_id)], args=[executor, now_ms, approval_ms, run_ttl]
                ),
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

    async def cancel(self, action_id: str, who: str) -> CancelResult:
        """Withdraw a pending action, or ask a running one to stop after its current items."""
        result = _text(
            await self._call("cancel", self._cancel(keys=[self._key(action_id)], args=[who]))
        )
        if result in ("cancelled", "stopping", "finished"):
            return result  # type: ignore[return-value]  # narrowed by the check above
        raise _unavailable(result)

    async def stopped_by(self, action_id: str) -> str | None:
        """Who asked a running action to stop, or None: read between items."""
        value = await self._call(
            "read the stop flag", self._redis.hget(self._key(action_id), "stopped_by")
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


def _unavailable(state: str) -> PendingActionUnavailable:
    messages = {
        "missing": "This action has expired or does not exist. Query the invocations again.",
        "running": "This action is already running.",
        "finished": "This action has already run.",
        "cancelled": "This action was cancelled.",
        "approved": "This action is already approved.",
    }
    return PendingActionUnavailable(
        messages.get(state, f"This action is {state}."), data={"state": state}
    )
