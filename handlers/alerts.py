"""The Slack side of the watch: post, edit and resolve alert messages with the bot token.

The buttons go through the same offering and pending-action path as doctor's, so a click on an
alert is confirmed, authorized at click time, audited and verified exactly like one on a readout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from core.ids import new_request_id
from core.pending import PendingActions
from core.watch.alerts import AlertView, NotifyFailed, ResolvedView
from handlers.alert_lookup import delivery_metadata, find_delivery
from handlers.blocks.alert import alert_message, change_note, resolved_message, resolved_note
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import Rendered
from handlers.offering import offer_writes

#: Who the offered actions are attributed to (the clicker is authorized separately).
WATCHER = "restate-ops-watch"


class SlackAlertNotifier:
    """``core.watch.alerts.AlertNotifier`` over the Slack Web API, for one environment's watch
    (its buttons act on that environment)."""

    def __init__(
        self,
        client: AsyncWebClient,
        pending: PendingActions,
        tag: EnvTag = NO_TAG,
    ) -> None:
        self._client = client
        self._pending = pending
        #: The environment whose alerts these are: named in each message, and where the
        #: buttons act.
        self._tag = tag

    async def post(self, channel: str, alert: AlertView, *, delivery: str) -> str:
        message = await self._render(channel, alert)
        with _slack_errors():
            answer = await self._client.chat_postMessage(
                channel=channel,
                blocks=message.blocks,
                text=message.text,
                unfurl_links=False,
                metadata=delivery_metadata(alert.key, delivery),
            )
        return str(answer["ts"])

    async def find(
        self, channel: str, alert_key: str, delivery: str, claimed_at: datetime
    ) -> str | None:
        return await find_delivery(self._client, channel, delivery, claimed_at)

    async def update(self, channel: str, ts: str, alert: AlertView, *, announce: bool) -> None:
        await self._edit(channel, ts, await self._render(channel, alert, ts))
        if announce:
            await self._reply(channel, ts, change_note(alert))

    async def resolve(self, channel: str, ts: str, resolved: ResolvedView) -> None:
        await self._edit(channel, ts, resolved_message(resolved, self._tag))
        await self._reply(channel, ts, resolved_note(resolved))

    async def _edit(self, channel: str, ts: str, message: Rendered) -> None:
        with _slack_errors():
            await self._client.chat_update(
                channel=channel, ts=ts, blocks=message.blocks, text=message.text
            )

    async def _render(self, channel: str, alert: AlertView, ts: str | None = None) -> Rendered:
        where = {"channel": channel, "alert": alert.key}
        if ts is not None:
            where["message_ts"] = ts
        offers, offers_error = await offer_writes(
            self._pending,
            alert.advice,
            environment=self._tag.name,
            offered_to=WATCHER,
            context=where,
            origin_request_id=new_request_id(),
            baseline=alert.report,
        )
        return alert_message(alert, offers, offers_error=offers_error, tag=self._tag)

    async def _reply(self, channel: str, ts: str, message: Rendered) -> None:
        with _slack_errors():
            await self._client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                blocks=message.blocks,
                text=message.text,
                unfurl_links=False,
            )


@contextmanager
def _slack_errors() -> Iterator[None]:
    """Slack's and the network's errors as ``NotifyFailed``: the next check tries again."""
    try:
        yield
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
        raise NotifyFailed(f"{type(exc).__name__}: {exc}") from exc
