"""Find an alert message whose ts was never stored, by the delivery id it carries.

Each alert is posted with Slack message metadata (``event_type`` ``restate_ops_alert``, payload:
the alert key and a delivery id recorded in Redis before the post). A leader that died between
Slack's answer and storing the ts leaves that id behind; the next one reads the channel's history
around the claim (``conversations.history`` with ``include_all_metadata``; bot scopes
``channels:history`` and ``groups:history``) and adopts the message instead of posting again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from core.watch.alerts import NotifyFailed

log = logging.getLogger(__name__)

ALERT_EVENT = "restate_ops_alert"
#: The bot's clock and Slack's may differ a little: look from a minute before the claim ...
CLOCK_SKEW = timedelta(minutes=1)
#: ... to well after it: the post was sent right after the claim and answered within the Web
#: API client's timeout and retries.
POST_WINDOW = timedelta(minutes=10)
PAGE = 200
MAX_PAGES = 10
#: Answers that mean the bot cannot read this channel's history at all (a missing scope, or not
#: a member): looking again will not help, so the alert is posted again rather than lost.
CANNOT_LOOK = frozenset(
    {"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type"}
)


def delivery_metadata(alert_key: str, delivery: str) -> dict[str, Any]:
    """The ``metadata`` argument of ``chat.postMessage`` for one alert post."""
    return {"event_type": ALERT_EVENT, "event_payload": {"alert": alert_key, "delivery": delivery}}


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def carries(message: dict[str, Any], delivery: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == ALERT_EVENT and payload.get("delivery") == delivery


async def find_delivery(
    client: AsyncWebClient, channel: str, delivery: str, claimed_at: datetime
) -> str | None:
    """The ts of the message in ``channel`` carrying ``delivery``, or None.

    Raises ``NotifyFailed`` when Slack could not answer this time (the caller tries again).
    """
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        try:
            answer = await client.conversations_history(
                channel=channel,
                oldest=_slack_ts(claimed_at - CLOCK_SKEW),
                latest=_slack_ts(claimed_at + POST_WINDOW),
                inclusive=True,
                include_all_metadata=True,
                limit=PAGE,
                cursor=cursor,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in CANNOT_LOOK:
                log.warning(
                    "watch: cannot read the history of %s (%s) to find an unrecorded alert post; "
                    "it may be posted again (the bot needs channels:history and groups:history)",
                    channel,
                    error,
                )
                return None
            raise NotifyFailed(f"conversations.history: {error or exc}") from exc
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise NotifyFailed(f"conversations.history: {type(exc).__name__}: {exc}") from exc
        for message in answer.get("messages") or []:
            if carries(message, delivery):
                return str(message["ts"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not answer.get("has_more") or cursor is None:
            return None
    log.warning(
        "watch: %s has over %d messages around the claim; not searched further",
        channel,
        PAGE * MAX_PAGES,
    )
    return None
