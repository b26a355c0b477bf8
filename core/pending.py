"""Server-side store of actions offered as buttons: the button carries only an opaque id.

A button's value cannot be trusted (anyone in the channel can click, hours later, with any value),
so the route and arguments live here, with an expiry, and are consumed exactly once (``GETDEL``).

Each environment has its own key space (the environment ``default`` keeps the keys it always
had): an id looked up under another environment than the one that offered it finds nothing, so
a button from a prod readout can never be claimed as a staging action, whatever its value says.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.environments import DEFAULT_ENVIRONMENT
from core.errors import PendingActionUnavailable
from core.models import DoctorReport, Plan, Route

DEFAULT_TTL = timedelta(minutes=15)


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


class PendingActions:
    def __init__(
        self, redis: Redis, *, prefix: str = "restate-ops:pending:", ttl: timedelta = DEFAULT_TTL
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl

    async def offer(self, action: PendingAction) -> str:
        """Store ``action`` and return the opaque id to put in the button."""
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

    async def claim(self, action_id: str, environment: str = DEFAULT_ENVIRONMENT) -> PendingAction:
        """Consume the action ``environment`` offered once; an expired, used or unknown id (or
        one offered by another environment) is unavailable.

        ``GETDEL`` makes the claim atomic: of two replicas handling two clicks, one wins.
        """
        try:
            raw = await self._redis.getdel(self._key(environment, action_id))
        except RedisError as exc:
            raise PendingActionUnavailable(
                f"Could not read the offered action: {type(exc).__name__}: {exc}"
            ) from exc
        if raw is None:
            raise PendingActionUnavailable(
                "This action has expired or was already used. Run /restate doctor again."
            )
        try:
            action = PendingAction.model_validate_json(raw)
        except ValidationError as exc:
            raise PendingActionUnavailable("The offered action could not be read.") from exc
        if action.environment != environment:  # only a hand-edited Redis gets here
            raise PendingActionUnavailable("The offered action belongs to another environment.")
        return action

    def _key(self, environment: str, action_id: str) -> str:
        if environment == DEFAULT_ENVIRONMENT:
            return self._prefix + action_id
        return f"{self._prefix}{environment}:{action_id}"
