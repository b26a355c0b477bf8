"""Finding an alert post by its delivery id in a channel's history, against the fake Web API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.slack_app import slack_web_client
from core.watch.alerts import NotifyFailed
from handlers.alert_lookup import delivery_metadata, find_delivery
from handlers.boundary import RedactingWebClient
from tests.slack_fake import FakeSlack

pytestmark = pytest.mark.integration

CHANNEL = "CLOOKUP1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> RedactingWebClient:
    """Without a session of its own, the client opens and closes one per request."""
    return slack_web_client("xoxb-test-token", fake.api_url)


async def post(client: RedactingWebClient, text: str, delivery: str | None = None) -> str:
    metadata = delivery_metadata("paused:Svc", delivery) if delivery else None
    answer = await client.chat_postMessage(channel=CHANNEL, text=text, metadata=metadata)
    return str(answer["ts"])


async def test_the_post_is_found_by_its_delivery_id_among_many(
    fake: FakeSlack, client: RedactingWebClient
) -> None:
    """Paging through 450 later messages, only the one carrying the id is taken."""
    claimed = datetime.now(UTC)
    await post(client, "an older alert", "dlv_other")
    ts = await post(client, "the alert", "dlv_wanted")
    for i in range(450):
        await post(client, f"chatter {i}")

    found = await find_delivery(client, CHANNEL, "dlv_wanted", claimed)
    missing = await find_delivery(client, CHANNEL, "dlv_absent", claimed)

    assert (found, missing) == (ts, None)
    assert len(fake.calls_to("conversations.history")) == 6  # 3 pages each


async def test_an_unreadable_history_posts_again_and_a_failed_read_retries_later(
    fake: FakeSlack, client: RedactingWebClient
) -> None:
    """Not in the channel: None (a duplicate beats a lost alert); Slack erring: NotifyFailed."""
    claimed = datetime.now(UTC)
    fake.not_in_channel.add(CHANNEL)
    unreadable = await find_delivery(client, CHANNEL, "dlv_1", claimed)
    fake.not_in_channel.clear()
    fake.failing["conversations.history"] = 500

    with pytest.raises(NotifyFailed):
        await find_delivery(client, CHANNEL, "dlv_1", claimed)
    assert unreadable is None
