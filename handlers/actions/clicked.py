"""The message whose button was clicked, and how to update it and reply under it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.format import Rendered
from handlers.ids import OFFERS_BLOCK
from handlers.messages import block_dicts


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
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(
            channel=str((body.get("channel") or {}).get("id") or container.get("channel_id")),
            ts=str(container.get("message_ts") or message.get("ts")),
            blocks=block_dicts(message.get("blocks")),
            threaded=action.get("block_id") == OFFERS_BLOCK,
            client=client,
            respond=respond,
        )

    async def replace(self, blocks: list[dict[str, Any]], text: str) -> None:
        """Replace the message's blocks (its buttons go with them)."""
        if self.threaded:
            await self.client.chat_update(
                channel=self.channel, ts=self.ts, blocks=blocks, text=text
            )
        else:
            await self.respond(blocks=blocks, text=text, replace_original=True)

    async def reply(self, message: Rendered) -> None:
        """Post in the thread under the message (or below it, when the bot is not a member)."""
        if self.threaded:
            await self.client.chat_postMessage(
                channel=self.channel,
                thread_ts=self.ts,
                blocks=message.blocks,
                text=message.text,
                unfurl_links=False,
            )
        else:
            await self.respond(
                blocks=message.blocks,
                text=message.text,
                response_type="in_channel",
                replace_original=False,
                unfurl_links=False,
            )
