"""The App Home tab (``app_home_opened`` → ``views.publish``), refreshed each time it is opened.

Bolt acknowledges events itself; the readout runs in the background. Operators get a fresh
doctor verdict (audited like any doctor) and the last audited actions; others get the help.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from core.authz import can_operate
from core.errors import OpsError
from core.operations import Attempt, DoctorResult
from handlers.blocks.home import MAX_ACTIONS, home_view
from handlers.commands.parse import ALL_USAGE
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
    actor = await deps.actor(user_id, None)
    operator = can_operate(actor.role)
    result: DoctorResult | None = None
    actions = []
    problem: str | None = None
    if operator:
        try:
            result = await deps.operations.doctor(
                Attempt(actor=actor, context={"surface": "app_home"})
            )
            recent = await deps.audit.latest(_SCAN)
            actions = [v for v in recent if v.start.route != "doctor"][:MAX_ACTIONS]
        except OpsError as exc:
            problem = f"{exc.code}: {exc.message} (request {exc.request_id or 'none'})"
    view = home_view(
        usage=ALL_USAGE,
        now=datetime.now(UTC),
        result=result,
        actions=actions,
        operator=operator,
        links=deps.links(),
        problem=problem,
    )
    await client.views_publish(user_id=user_id, view=view)
