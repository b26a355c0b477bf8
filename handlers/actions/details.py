"""A click on a stuck run's *Details* button: ack, read doctor again, answer privately.

Read-only: it changes nothing and claims no pending action; whoever may run doctor may ask (the
core authorizes and audits it like doctor). The answer comes from a fresh readout of the
environment the button names (``prod:<invocationId>``; checked against that environment's
allowlist, like a doctor there), never from the (possibly old) message.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from core.errors import InvalidInput
from core.operations import Attempt
from handlers.blocks.details import invocation_details
from handlers.deps import Listener, SlackDeps
from handlers.errors import acked_click, naming_environment
from handlers.ids import split_env_value
from handlers.messages import reply_ephemeral


def show_details(deps: SlackDeps) -> Listener:
    """The listener for every *Details* button; Bolt injects its arguments by name."""

    return acked_click(
        deps.background,
        "slack-details",
        lambda body, action, _client, respond: _handle(deps, body, action, respond),
    )


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


async def _handle(
    deps: SlackDeps, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    user = _object(body, "user")
    value = action.get("value")
    user_id = user.get("id")
    if not isinstance(value, str) or not value:
        raise InvalidInput("actions[0].value", "must name an invocation")
    environment, invocation_id = split_env_value(value)
    if not invocation_id:
        raise InvalidInput("actions[0].value", "must name an invocation")
    env = deps.env(environment)
    if not isinstance(user_id, str) or not user_id:
        raise InvalidInput("user.id", "must be a non-empty string")
    name = user.get("username") or user.get("name")
    actor = await deps.actor(user_id, name if isinstance(name, str) else None, env)
    channel = (
        (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) else None
    )
    async with naming_environment(deps.tag(env)):
        result = await env.operations.doctor(
            Attempt(actor=actor, context={"channel": str(channel or ""), "details": invocation_id})
        )
    details = invocation_details(result.report, invocation_id, deps.links(env), deps.tag(env))
    await reply_ephemeral(respond, details)
