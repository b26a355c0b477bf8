"""``/restate audit [n]``: the latest attempts, ephemeral, operators only.

Each environment has its own operators, so a reader sees the attempts of the environments they
may operate: ``env=<name>`` shows that one's only; without it, every environment they operate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt.context.respond.async_respond import AsyncRespond

from core.authz import can_operate
from core.environments import Environment, environment_of
from core.errors import PermissionRequired
from core.operations import Attempt
from handlers.blocks.audit import audit_message
from handlers.deps import SlackDeps
from handlers.messages import reply_ephemeral

#: Attempts read to find ``n`` of the reader's environments.
_SCAN = 500


async def show_audit(
    deps: SlackDeps,
    attempt: Attempt,
    count: int,
    respond: AsyncRespond,
    env: Environment | None = None,
) -> None:
    """The latest ``count`` attempts on ``env`` (``attempt``'s actor is checked against it), or
    on every environment the actor operates."""
    if env is not None:
        operated = {env.name} if can_operate(attempt.actor.role) else set()
    else:
        operated = {
            each.name
            for each in deps.environments
            if can_operate(
                (await deps.actor(attempt.actor.id, attempt.actor.display_name, each)).role
            )
        }
    if not operated:
        error = PermissionRequired(f"{attempt.actor.id} may not read the audit log.")
        raise error.with_request_id(attempt.request_id)
    if operated == set(deps.environments.names):
        views = await deps.audit.latest(count)
    else:
        views = [v for v in await deps.audit.latest(_SCAN) if environment_of(v) in operated]
    message = audit_message(views[:count], datetime.now(UTC), deps.environments.several)
    await reply_ephemeral(respond, message)
