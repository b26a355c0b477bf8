"""``/restate doctor all``: one compact line per environment, all read at once.

Every environment is probed concurrently, each by its own doctor (one audited attempt per
environment, recorded under it), with the user checked against that environment's allowlist:
where they may not operate, the line says so (and the refusal is audited there). No buttons:
``/restate doctor <name>`` gives one environment's readout and its actions.
"""

from __future__ import annotations

import asyncio

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.errors import OpsError
from core.operations import Attempt
from handlers.blocks.doctor_all import EnvironmentLine, doctor_all_message
from handlers.blocks.environment import env_badge
from handlers.deps import SlackDeps
from handlers.messages import post_to_channel


async def post_doctor_all(
    deps: SlackDeps,
    user_id: str,
    user_name: str | None,
    *,
    channel: str,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> str | None:
    """Doctor on every environment at once; one message with a line each; return its ts."""
    lines = await asyncio.gather(
        *(_line(deps, env, user_id, user_name, channel) for env in deps.environments)
    )
    return await post_to_channel(
        client,
        respond,
        channel,
        lambda threaded: doctor_all_message(lines, requested_by=user_id),
    )


async def _line(
    deps: SlackDeps, env: Environment, user_id: str, user_name: str | None, channel: str
) -> EnvironmentLine:
    actor = await deps.actor(user_id, user_name, env)
    attempt = Attempt(actor=actor, context={"channel": channel, "doctor": "all"})
    try:
        result = await env.operations.doctor(attempt)
    except OpsError as exc:
        return EnvironmentLine(env_badge(env), error=exc)
    return EnvironmentLine(env_badge(env), result=result)
