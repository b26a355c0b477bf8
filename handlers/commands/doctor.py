"""``/restate doctor``: the readout into the channel, with the core's advice as buttons."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.operations import Attempt
from handlers.blocks.doctor import doctor_message
from handlers.deps import SlackDeps
from handlers.messages import post_to_channel
from handlers.offering import offer_writes


async def post_doctor(
    deps: SlackDeps,
    attempt: Attempt,
    *,
    channel: str,
    client: AsyncWebClient,
    respond: AsyncRespond,
    bot_user_id: str | None,
) -> str | None:
    """Run doctor (core authorizes and audits), offer its writes, post it; return the ts."""
    result = await deps.operations.doctor(attempt)
    offers, offers_error = await offer_writes(
        deps.pending,
        result.advice,
        offered_to=attempt.actor.id,
        context={"channel": channel},
        origin_request_id=result.request_id,
        baseline=result.report,
    )
    return await post_to_channel(
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
        ),
    )
