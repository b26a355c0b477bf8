"""Posting into the channel: with the bot token when possible, else through the response URL.

A message the bot posted itself can be updated and threaded under. When the bot is not a member
of the channel, the message goes through the command's response URL instead (visible in the
channel, but without a ts to thread under), and says how to invite the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.format import Rendered

log = logging.getLogger(__name__)

#: chat.postMessage errors that mean "the bot cannot post here", not "Slack is broken".
NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


async def post_to_channel(
    client: AsyncWebClient,
    respond: AsyncRespond,
    channel: str,
    render: Callable[[bool], Rendered],
) -> str | None:
    """Post ``render(threaded)``; return its ts, or None when it went through the response URL."""
    message = render(True)
    try:
        response = await client.chat_postMessage(
            channel=channel, blocks=message.blocks, text=message.text, unfurl_links=False
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        message = render(False)
        await respond(
            blocks=message.blocks,
            text=message.text,
            response_type="in_channel",
            replace_original=False,
            unfurl_links=False,
        )
        return None
    return str(response["ts"])


async def post_details(
    client: AsyncWebClient,
    respond: AsyncRespond,
    channel: str,
    ts: str | None,
    message: Rendered,
) -> bool:
    """The readout's details: the first reply in its thread, or the next message when the
    readout went through the response URL. A failure is logged: the readout itself is out."""
    try:
        if ts is not None:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                blocks=message.blocks,
                text=message.text,
                unfurl_links=False,
            )
        else:
            await respond(
                blocks=message.blocks,
                text=message.text,
                response_type="in_channel",
                replace_original=False,
                unfurl_links=False,
            )
    except (SlackClientError, ClientError, TimeoutError, OSError) as exc:
        log.warning("could not post the readout details in %s: %s", channel, exc)
        return False
    return True


async def reply_ephemeral(respond: AsyncRespond, message: Rendered) -> None:
    await respond(
        blocks=message.blocks, text=message.text, response_type="ephemeral", replace_original=False
    )


def block_dicts(blocks: Any) -> list[dict[str, Any]]:
    """Message blocks from a payload, as plain dicts (anything else is dropped)."""
    return [b for b in blocks or [] if isinstance(b, dict)]
