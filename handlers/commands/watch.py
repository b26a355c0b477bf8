"""``/restate watch | unwatch | snooze``: operators subscribe, unsubscribe and mute this channel.

The core authorizes and audits; the reply is posted in the channel for ``watch`` and ``unwatch``
(everyone should know the bot is on duty) and ephemeral for a status and a snooze.
"""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

from core.errors import WatchNotConfigured
from core.operations import Attempt
from core.watch.control import WatchControl
from handlers.blocks.alert import snoozed_message, unwatched_message, watch_status_message
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.commands.watch_parse import SnoozeCommand, WatchCommand
from handlers.messages import reply_ephemeral


async def run_watch_command(
    watch: WatchControl | None,
    attempt: Attempt,
    command: WatchCommand | SnoozeCommand,
    *,
    channel: str,
    respond: AsyncRespond,
    tag: EnvTag = NO_TAG,
) -> None:
    """Subscribe, unsubscribe or snooze ``channel`` for one environment's watch (``watch``)."""
    if watch is None:
        raise WatchNotConfigured("Watching is turned off on this bot.").with_request_id(
            attempt.request_id
        )
    actor, request_id = attempt.actor, attempt.request_id
    if isinstance(command, SnoozeCommand):
        until = await watch.snooze(actor, channel, command.rule, command.duration, request_id)
        await reply_ephemeral(respond, snoozed_message(command.rule, until, tag))
        return
    if command.action == "watch":
        status = await watch.watch(actor, channel, request_id)
        message, public = watch_status_message(status, tag), status.newly_subscribed
    else:
        removed = await watch.unwatch(actor, channel, request_id)
        message, public = unwatched_message(removed, tag), removed
    await respond(
        blocks=message.blocks,
        text=message.text,
        response_type="in_channel" if public else "ephemeral",
        replace_original=False,
    )
