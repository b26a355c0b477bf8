"""The fields the listeners read from Slack's payloads, checked once.

Slack signs what it sends, but a signed payload can still be odd (a proxy, a Slack change, a test):
an ``action_id`` that is not a string, no ``actions``, a missing user. Each becomes an
``InvalidInput`` naming the field, answered like any other refusal, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from core.environments import DEFAULT_ENVIRONMENT
from core.errors import InvalidInput
from core.ids import new_request_id
from core.models import Route
from handlers.background import Background
from handlers.errors import reply_failure
from handlers.ids import RUN_ACTION, route_of, split_env_value

#: Payload types whose first action Bolt reads (``body["actions"][0]``) for every listener.
_WITH_ACTIONS = frozenset({"block_actions", "interactive_message"})


def _text(data: dict[str, Any], key: str, field: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return ""
    raise InvalidInput(field, "must be a non-empty string" if required else "must be a string")


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class SlashCommand:
    """``/restate <text>`` as the listener needs it."""

    text: str
    channel: str
    user_id: str
    user_name: str | None
    #: Opens a form (``views.open``) within 3 s of the command; empty when Slack sent none.
    trigger_id: str = ""

    @classmethod
    def from_payload(cls, command: dict[str, Any]) -> SlashCommand:
        return cls(
            text=_text(command, "text", "text", required=False),
            channel=_text(command, "channel_id", "channel_id"),
            user_id=_text(command, "user_id", "user_id"),
            user_name=_text(command, "user_name", "user_name", required=False) or None,
            trigger_id=_text(command, "trigger_id", "trigger_id", required=False),
        )


@dataclass(frozen=True)
class ButtonClick:
    """A click on a write button: who clicked, which route it names, which pending action in
    which environment (read from the value, then looked up there only: see ``handlers.ids``)."""

    user_id: str
    user_name: str | None
    route: Route
    pending_id: str
    environment: str = DEFAULT_ENVIRONMENT

    @classmethod
    def from_payload(cls, body: dict[str, Any], action: dict[str, Any]) -> ButtonClick:
        user = _object(body, "user")
        action_id = _text(action, "action_id", "actions[0].action_id")
        if not RUN_ACTION.match(action_id):
            raise InvalidInput("actions[0].action_id", "must name a restate-ops write button")
        name = user.get("username") or user.get("name")
        environment, pending_id = split_env_value(_text(action, "value", "actions[0].value"))
        if not pending_id:
            raise InvalidInput("actions[0].value", "must name a pending action")
        return cls(
            user_id=_text(user, "id", "user.id"),
            user_name=name if isinstance(name, str) and name else None,
            route=route_of(action_id),
            pending_id=pending_id,
            environment=environment,
        )


def odd_payload(body: dict[str, Any]) -> InvalidInput | None:
    """What Bolt itself would crash on before any listener runs, as an ``InvalidInput``."""
    if body.get("type") not in _WITH_ACTIONS:
        return None
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return InvalidInput("actions", "must be a non-empty list of actions")
    if not isinstance(actions[0].get("action_id"), str):
        return InvalidInput("actions[0].action_id", "must be a string")
    return None


class RefuseOddPayloads(AsyncMiddleware):
    """A global middleware: a payload Bolt cannot route gets 200 and an ephemeral explanation.

    Class-based so that Bolt builds no listener arguments for it (see ``RedactSlackIO``).
    """

    def __init__(self, background: Background) -> None:
        self._background = background

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        # Bolt passes it by this name.
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        problem = odd_payload(req.body)
        if problem is None:
            return await next()
        reply = reply_failure(problem, req.body, req.context.respond, new_request_id())
        self._background.start(reply, name="slack-odd-payload")
        return BoltResponse(status=200, body="")
