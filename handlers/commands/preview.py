"""A write typed as text: the core's preview, a fresh doctor readout, and a confirm button.

``Operations.preview`` authorizes and validates like the write itself (a refusal is audited) and
words the change like doctor's advice. Nothing changes until an operator clicks the button; the
click goes through the same flow as a doctor button (``handlers.actions.run_pending``).
"""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.operations import Attempt
from handlers.blocks.offers import Offer, connectivity_blocked
from handlers.blocks.preview import preview_message
from handlers.commands.parse import WriteCommand
from handlers.deps import SlackDeps
from handlers.messages import post_to_channel
from handlers.offering import offer_writes


async def post_preview(
    deps: SlackDeps,
    env: Environment,
    attempt: Attempt,
    command: WriteCommand,
    *,
    channel: str,
    client: AsyncWebClient,
    respond: AsyncRespond,
    bot_user_id: str | None,
) -> str | None:
    """Preview ``command`` on ``env`` (which authorizes ``attempt``'s actor) with its button."""
    advice = await env.operations.preview(attempt, command.route, command.args)
    # The readout the verify step compares with, and whether the admin path works at all.
    result = await env.operations.doctor(Attempt(actor=attempt.actor, context=attempt.context))
    blocked = connectivity_blocked(result.advice)
    offers: list[Offer] = []
    offers_error: str | None = None
    if not blocked:
        context = {"channel": channel, **({"reason": command.reason} if command.reason else {})}
        offers, offers_error = await offer_writes(
            deps.pending,
            [advice],
            environment=env.name,
            offered_to=attempt.actor.id,
            context=context,
            origin_request_id=result.request_id,
            baseline=result.report,
        )
    return await post_to_channel(
        client,
        respond,
        channel,
        lambda threaded: preview_message(
            advice,
            result,
            offers[0] if offers else None,
            requested_by=attempt.actor.id,
            reason=command.reason,
            threaded=threaded,
            bot_user_id=bot_user_id,
            blocked=blocked,
            offers_error=offers_error,
            env=deps.tag(env),
        ),
    )
