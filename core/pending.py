"""Server-side store of offered writes: a button or an approval id carries only an opaque id.

A button's value cannot be trusted (anyone in the channel can click, hours later, with any value),
so the route and arguments live here, with an expiry, and are consumed exactly once.

Two kinds share one key space, told apart by the Redis type of the key:

* an ordinary offer (a string, ``SET … EX``) is claimed by whoever clicks first (``GETDEL``);
* a **held** write (a hash, ``hold``), under the two-person rule (``core.approvals``): its
  requester cannot claim it; the first *other* operator's claim is the approval. It expires at
  ``expires_at`` (the same TTL), and the key stays a while longer so that a late claim is told
  "expired" rather than "unknown".

Each claim is one Lua script (read, decide, delete in one step): of two replicas handling two
clicks, one wins, and the requester's own click never consumes the action.

Each environment has its own key space (the environment ``default`` keeps the keys it always
had): an id looked up under another environment than the one that offered it finds nothing, so
a button from a prod readout can never be claimed as a staging action, whatever its value says.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.environments import DEFAULT_ENVIRONMENT
from core.errors import ApprovalRequired, PendingActionUnavailable, SelfApprovalRefused
from core.ids import new_id
from core.models import DoctorReport, Plan, Route
from core.timestamps import iso_utc

DEFAULT_TTL = timedelta(minutes=15)
#: How long an expired held write is kept to answer "expired" (then: "unknown or used").
EXPIRED_KEPT = timedelta(hours=1)

#: KEYS[1] the action; ARGV: claimant ('' for none), now in ms. Returns {verdict, payload}.
_CLAIM = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return {'missing', false} end
if kind == 'string' then return {'ok', redis.call('GETDEL', KEYS[1])} end
local f = redis.call('HMGET', KEYS[1], 'payload', 'requested_by', 'expires_at_ms')
if tonumber(ARGV[2]) >= tonumber(f[3]) then
  redis.call('DEL', KEYS[1])
  return {'expired', f[1]}
end
if ARGV[1] == '' then return {'needs-approval', f[1]} end
if ARGV[1] == f[2] then return {'self', f[1]} end
redis.call('DEL', KEYS[1])
return {'ok', f[1]}
"""

_PEEK = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then return redis.call('GET', KEYS[1]) end
if kind == 'hash' then return redis.call('HGET', KEYS[1], 'payload') end
return false
"""


class PendingAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    route: Route
    args: dict[str, Any]
    #: The environment whose readout offered it: the click acts there and nowhere else, and
    #: the clicker is checked against that environment's allowlist.
    environment: str = DEFAULT_ENVIRONMENT
    preview: str
    #: Who asked for the readout that offered the action (the clicker is authorized separately).
    offered_to: str
    #: Where the offer was posted: the Slack channel and message ts, when known.
    context: dict[str, str] = {}
    #: The doctor request this action came from, to tie the audit entries together.
    origin_request_id: str | None = None
    #: The readout the offer was based on, so the verify readout can say what changed.
    baseline: DoctorReport | None = None
    #: The plan the offer's preview showed: the click runs it, or says what changed since.
    plan: Plan | None = None
    #: Under the two-person rule: who requested it (they cannot claim it). Set by ``hold``.
    requested_by: str | None = None
    #: When a held write stops waiting for its second operator. Set by ``hold``.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Claimed:
    """A claimed action, and who approved it when it was held for a second operator."""

    id: str
    action: PendingAction
    approved_by: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class PendingActions:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "restate-ops:pending:",
        ttl: timedelta = DEFAULT_TTL,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._now = now
        self._claim = redis.register_script(_CLAIM)
        self._peek = redis.register_script(_PEEK)

    async def offer(self, action: PendingAction) -> str:
        """Store ``action`` and return the opaque id to put in the button.

        An action with ``requested_by`` is held for a second operator (see :meth:`hold`).
        """
        if action.requested_by is not None:
            return (await self.hold(action, action.requested_by))[0]
        action_id = secrets.token_urlsafe(16)
        try:
            await self._redis.set(
                self._key(action.environment, action_id),
                action.model_dump_json(),
                ex=self._ttl,
                nx=True,
            )
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not store the offered action: {type(exc).__name__}: {exc}"
            ) from exc
        return action_id

    async def hold(self, action: PendingAction, requested_by: str) -> tuple[str, PendingAction]:
        """Store a write that a second operator must approve: its id (``apr_…``, the approval
        id) and the action as stored, with its requester and expiry."""
        expires_at = self._now() + self._ttl
        held = action.model_copy(update={"requested_by": requested_by, "expires_at": expires_at})
        action_id = new_id("apr")
        key = self._key(action.environment, action_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(
                    key,
                    mapping={
                        "payload": held.model_dump_json(),
                        "requested_by": requested_by,
                        "expires_at_ms": _ms(expires_at),
                    },
                )
                pipe.expire(key, self._ttl + EXPIRED_KEPT)
                await pipe.execute()
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not store the action for approval: {type(exc).__name__}: {exc}"
            ) from exc
        return action_id, held

    async def claim(
        self, action_id: str, environment: str = DEFAULT_ENVIRONMENT, *, by: str | None = None
    ) -> PendingAction:
        """Consume the action ``environment`` offered once; an expired, used or unknown id (or
        one offered by another environment) is unavailable.

        ``by`` is who claims it: a held write refuses its requester (``SelfApprovalRefused``)
        and a claim without a claimant (``ApprovalRequired``), and neither consumes it.
        """
        return (await self.claim_as(action_id, by=by, environment=environment)).action

    async def claim_as(
        self, action_id: str, *, by: str | None, environment: str = DEFAULT_ENVIRONMENT
    ) -> Claimed:
        """:meth:`claim`, saying who approved the action when it was held."""
        try:
            verdict, raw = await self._claim(
                keys=[self._key(environment, action_id)], args=[by or "", _ms(self._now())]
            )
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not read the offered action: {type(exc).__name__}: {exc}"
            ) from exc
        verdict = _text(verdict)
        if verdict == "missing" or raw is None:
            raise PendingActionUnavailable(
                "This action has expired or was already used. Run /restate doctor again."
            )
        action = _parse(raw)
        if action.environment != environment:  # only a hand-edited Redis gets here
            raise PendingActionUnavailable("The offered action belongs to another environment.")
        if verdict == "expired":
            raise _expired(action_id, action)
        if verdict == "self":
            raise SelfApprovalRefused(
                f"{by} requested this {action.route} and cannot approve it: the two-person rule "
                "needs a second operator.",
                data={"approvalId": action_id, "requestedBy": action.requested_by},
            )
        if verdict == "needs-approval":
            raise ApprovalRequired(
                f"This {action.route} waits for a second operator's approval.",
                data={"approvalId": action_id, "requestedBy": action.requested_by},
            )
        held = action.requested_by is not None
        return Claimed(action_id, action, by if held else None)

    async def peek(
        self, action_id: str, environment: str = DEFAULT_ENVIRONMENT
    ) -> PendingAction | None:
        """The stored action without consuming it (expired held writes included), or None."""
        try:
            raw = await self._peek(keys=[self._key(environment, action_id)])
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not read the offered action: {type(exc).__name__}: {exc}"
            ) from exc
        return None if raw is None else _parse(raw)

    def _key(self, environment: str, action_id: str) -> str:
        if environment == DEFAULT_ENVIRONMENT:
            return self._prefix + action_id
        return f"{self._prefix}{environment}:{action_id}"


def _expired(action_id: str, action: PendingAction) -> PendingActionUnavailable:
    when = iso_utc(action.expires_at) if action.expires_at else "its expiry"
    return PendingActionUnavailable(
        f"The approval request {action_id} expired at {when} without a second operator's "
        f"approval; nothing was changed. Request the {action.route} again.",
        data={"state": "expired", "approvalId": action_id, "expiresAt": when},
    )


def _parse(raw: Any) -> PendingAction:
    try:
        return PendingAction.model_validate_json(raw)
    except ValidationError as exc:
        raise PendingActionUnavailable("The offered action could not be read.") from exc


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
