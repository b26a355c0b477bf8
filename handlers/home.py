"""The App Home tab (``app_home_opened`` → ``views.publish``), refreshed each time it is opened.

Bolt acknowledges events itself; the readouts run in the background. Each environment checks
the reader against its own allowlist: its operators get a fresh doctor verdict (audited under
that environment, all environments read concurrently); the last audited actions shown are
those of the environments the reader operates; everyone gets the help.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from core.audit import AttemptView
from core.authz import can_operate
from core.environments import Environment, environment_of
from core.errors import OpsError
from core.operations import Attempt
from handlers.blocks.home import MAX_ACTIONS, HomeReadout, home_view
from handlers.commands.parse import help_usage
from handlers.deps import Listener, SlackDeps

#: Audited attempts read to find the last actions (doctor readouts are skipped).
_SCAN = 200


def home_opened(deps: SlackDeps) -> Listener:
    """The ``app_home_opened`` listener; Bolt injects its arguments by name."""

    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str) or not user:
            return
        deps.background.start(_publish(deps, user, client), name="slack-home")

    return opened


async def _publish(deps: SlackDeps, user_id: str, client: AsyncWebClient) -> None:
    readouts = await asyncio.gather(*(_readout(deps, env, user_id) for env in deps.environments))
    operated = {r.env.name for r in readouts if r.operator}
    actions: list[AttemptView] = []
    problem: str | None = None
    if operated:
        try:
            recent = await deps.audit.latest(_SCAN)
        except OpsError as exc:
            problem = f"{exc.code}: {exc.message}"
        else:
            actions = [
                v for v in recent if v.start.route != "doctor" and environment_of(v) in operated
            ][:MAX_ACTIONS]
    view = home_view(
        usage=help_usage(deps.environments),
        now=datetime.now(UTC),
        readouts=readouts,
        actions=actions,
        actions_problem=problem,
    )
    await client.views_publish(user_id=user_id, view=view)


async def _readout(deps: SlackDeps, env: Environment, user_id: str) -> HomeReadout:
    """``env``'s part: its verdict when the reader operates there, else why not."""
    actor = await deps.actor(user_id, None, env)
    tag, links = deps.tag(env), deps.links(env)
    if not can_operate(actor.role):
        return HomeReadout(tag, operator=False, links=links)
    try:
        result = await env.operations.doctor(Attempt(actor=actor, context={"surface": "app_home"}))
    except OpsError as exc:
        problem = f"{exc.code}: {exc.message} (request {exc.request_id or 'none'})"
        return HomeReadout(tag, operator=True, problem=problem, links=links)
    return HomeReadout(tag, operator=True, result=result, links=links)
