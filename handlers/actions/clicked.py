"""The message whose button was clicked, and how to update it and reply under it.

Slack can fail any call (500, 429, a used-up response URL). None of these may lose an operation
or its report, so every method here tries one channel, then the other, and logs what failed
instead of raising: the bot's own post (``chat.update`` / ``chat.postMessage`` in the thread) or
the click's response URL. They return whether the message got out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.format import Rendered
from handlers.ids import OFFERS_BLOCK, offer_kind
from handlers.messages import block_dicts

log = logging.getLogger(__name__)

#: What a failed Slack call raises: an API error or a refused response URL, or the network.
SLACK_FAILURES = (SlackClientError, ClientError, TimeoutError, OSError)


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ClickedMessage:
    """Where the click came from. Slack signs the payload, so channel and ts are trustworthy."""

    channel: str
    ts: str
    blocks: list[dict[str, Any]]
    #: The bot posted it itself (chat.update + thread) rather than through a response URL.
    threaded: bool
    client: AsyncWebClient
    respond: AsyncRespond

    @classmethod
    def from_body(
        cls,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> ClickedMessage:
        container, message = _object(body, "container"), _object(body, "message")
        channel = _object(body, "channel")
        return cls(
            channel=str(channel.get("id") or container.get("channel_id")),
            ts=str(container.get("message_ts") or message.get("ts")),
            blocks=block_dicts(message.get("blocks")),
            threaded=offer_kind(action.get("block_id")) == OFFERS_BLOCK,
            client=client,
            respond=respond,
        )

    async def replace(self, blocks: list[dict[str, Any]], text: str) -> bool:
        """Replace the message's blocks (its buttons go with them); cosmetic, never raises."""
        if self.threaded:
            try:
                await self.client.chat_update(
                    channel=self.channel, ts=self.ts, blocks=blocks, text=text
                )
                return True
            except SLACK_FAILURES as exc:
                log.warning("chat.update of %s failed (%s); trying the response URL", self.ts, exc)
        try:
            await self.respond(blocks=blocks, text=text, replace_original=True)
            return True
        except SLACK_FAILURES as exc:
            log.warning("could not update message %s in %s: %s", self.ts, self.channel, exc)
            return False

    async def reply(self, message: Rendered) -> bool:
        """Post under the message (in its thread when the bot posted it); never raises."""
        attempts = [self._thread_post, self._response_url_post]
        if not self.threaded:
            attempts = [self._response_url_post, self._channel_post]
        for attempt in attempts:
            try:
                await attempt(message)
                return True
            except SLACK_FAILURES as exc:
                log.warning("%s failed for %s: %s", attempt.__name__.strip("_"), self.ts, exc)
        log.error("could not post to %s about %s: %.200s", self.channel, self.ts, message.text)
        return False

    async def _thread_post(self, message: Rendered) -> None:
        await self.client.chat_postMessage(
            channel=self.channel,
            thread_ts=self.ts,
            blocks=message.blocks,
            text=message.text,
            unfurl_links=False,
        )

    async def _channel_post(self, message: Rendered) -> None:
        await self.client.chat_postMessage(
            channel=self.channel, blocks=message.blocks, text=message.text, unfurl_links=False
        )

    async def _response_url_post(self, message: Rendered) -> None:
        await self.respond(
            blocks=message.blocks,
            text=message.text,
            response_type="in_channel",
            replace_original=False,
            unfurl_links=False,
        )
