"""``/restate doctor``: the verdict and actions into the channel, the full readout in its thread.

One environment's: its doctor (audited under it), its buttons (stored under it), its links.
"""

from __future__ import annotations

import logging

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.operations import Attempt
from handlers.blocks.doctor import details_message, doctor_message
from handlers.deps import SlackDeps
from handlers.messages import post_details, post_to_channel
from handlers.offering import offer_writes

log = logging.getLogger(__name__)


async def post_doctor(
    deps: SlackDeps,
    env: Environment,
    attempt: Attempt,
    *,
    channel: str,
    client: AsyncWebClient,
    respond: AsyncRespond,
    bot_user_id: str | None,
) -> str | None:
    """Run doctor (core authorizes and audits), offer its writes, post it; return the ts."""
    result = await env.operations.doctor(attempt)
    tag, links = deps.tag(env), deps.links(env)
    offers, offers_error = await offer_writes(
        deps.pending,
        result.advice,
        environment=env.name,
        offered_to=attempt.actor.id,
        context={"channel": channel},
        origin_request_id=result.request_id,
        baseline=result.report,
    )
    ts = await post_to_channel(
        client,
        respond,
        channel,
        lambda threaded: doctor_message(
            result,
            offers,
            requested_by=attempt.actor.id,
            threaded=threaded,
            bot_user_id=bot_user_id,
            offers_error=offers_error,
            links=links,
            env=tag,
        ),
    )
    await post_details(client, respond, channel, ts, details_message(result, links, tag))
    return ts
