"""``POST /slack/events`` checks size, timestamp and signature on the raw bytes before parsing.

An unauthenticated request is answered 401 (or 413 when too large) without being parsed and
without any call to Slack, in particular none to a ``response_url`` it names. A signed request
that is odd in shape is answered 200 with a private explanation, never a 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack_events import MAX_BODY_BYTES
from tests.integration.slack_harness import CHANNEL, OPERATOR, SlackBot, sign
from tests.slack_fake import TEAM_ID

pytestmark = pytest.mark.integration

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def command_form(bot: SlackBot, hook: str = "forged") -> str:
    return urlencode(
        {
            "command": "/restate",
            "text": "doctor",
            "team_id": TEAM_ID,
            "channel_id": CHANNEL,
            "user_id": OPERATOR,
            "response_url": bot.fake.response_url(hook),
        }
    )


UNSIGNED_BODIES: dict[str, tuple[bytes, str]] = {
    "not json": (b"{not json", JSON),
    "payload null": (b"payload=null", FORM),
    "not utf-8": (b"payload=\xff\xfe\x80", FORM),
    "json type, form body": (b"payload=%7B%7D&command=%2Frestate", JSON),
    "deeply nested": (b"[" * 5000 + b"]" * 5000, JSON),
}


@pytest.mark.parametrize(("body", "content_type"), UNSIGNED_BODIES.values(), ids=UNSIGNED_BODIES)
async def test_malformed_unsigned_body_is_refused_unparsed(
    bot: SlackBot, body: bytes, content_type: str
) -> None:
    """A malformed body with a wrong signature gets 401, and the bot calls nothing."""
    response = await bot.post(body, content_type, secret="not-the-signing-secret")
    await bot.settled()

    assert response.status_code == 401
    assert bot.fake.calls == []


def forged_headers(
    raw: bytes, timestamp: str, signature: str | bytes | None = None
) -> dict[bytes, bytes]:
    if signature is None:
        signature = sign(raw, timestamp)
    return {
        b"content-type": FORM.encode(),
        b"x-slack-request-timestamp": timestamp.encode(),
        b"x-slack-signature": signature.encode() if isinstance(signature, str) else signature,
    }


#: Each timestamp is made from the current time when the test runs.
BAD_TIMESTAMPS: dict[str, Callable[[int], str]] = {
    "not a number": lambda now: "abc",
    "empty": lambda now: "",
    "float": lambda now: f"{now}.5",
    "negative": lambda now: "-1",
    "stale": lambda now: str(now - 6 * 60),
    "future": lambda now: str(now + 6 * 60),
    "huge": lambda now: "9" * 40,
}


@pytest.mark.parametrize("make", BAD_TIMESTAMPS.values(), ids=BAD_TIMESTAMPS)
async def test_bad_timestamp_never_reaches_the_response_url(
    bot: SlackBot, make: Callable[[int], str]
) -> None:
    """A bad timestamp (even correctly signed) gets 401; the body's response_url is never called."""
    raw = command_form(bot).encode()
    timestamp = make(int(time.time()))

    response = await bot.http.post(
        f"{bot.url}/slack/events", content=raw, headers=forged_headers(raw, timestamp)
    )
    await bot.settled()

    assert response.status_code == 401
    assert bot.fake.calls == []


@pytest.mark.parametrize(
    "signature", ["", "v0=", "v0=" + "0" * 64, "v1=abc", "v0=ZZ", b"v0=\xe9\xff"], ids=repr
)
async def test_bad_signature_is_refused(bot: SlackBot, signature: str | bytes) -> None:
    """A missing, malformed or wrong signature gets 401 and the bot calls nothing."""
    raw = command_form(bot).encode()
    headers = forged_headers(raw, str(int(time.time())), signature)

    response = await bot.http.post(f"{bot.url}/slack/events", content=raw, headers=headers)
    await bot.settled()

    assert response.status_code == 401
    assert bot.fake.calls == []


async def test_oversized_body_is_refused_before_it_is_read(bot: SlackBot) -> None:
    """A body over the cap gets 413 whether its length is declared or it arrives in chunks."""
    big = b"payload=" + b"a" * MAX_BODY_BYTES

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    declared = await bot.post(big, FORM)
    chunked = await bot.http.post(
        f"{bot.url}/slack/events",
        content=chunks(),
        headers=forged_headers(big, str(int(time.time()))),
    )

    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert bot.fake.calls == []


SIGNED_UNREADABLE: dict[str, tuple[bytes, str]] = {
    "not json": (b"{not json", JSON),
    "payload null": (b"payload=null", FORM),
    "payload a list": (b"payload=%5B1%2C2%5D", FORM),
    "not utf-8": (b"payload=\xff\xfe\x80", FORM),
    "json type, form body": (b"command=%2Frestate&text=doctor", JSON),
}


@pytest.mark.parametrize(
    ("body", "content_type"), SIGNED_UNREADABLE.values(), ids=SIGNED_UNREADABLE
)
async def test_signed_unreadable_body_is_a_400_not_a_500(
    bot: SlackBot, body: bytes, content_type: str
) -> None:
    """A signed body that is not one JSON object (Slack never sends one) gets 400."""
    response = await bot.post(body, content_type)
    await bot.settled()

    assert response.status_code == 400
    assert bot.fake.calls == []


def click_payload(bot: SlackBot, hook: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": OPERATOR, "username": "olivia"},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": CHANNEL},
        "response_url": bot.fake.response_url(hook),
        "actions": [
            {
                "type": "button",
                "action_id": "restate.run:recover-stuck-workflow:0",
                "block_id": "restate.offers",
                "value": "some-pending-id",
            }
        ],
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


ODD_CLICKS: dict[str, tuple[dict[str, Any], str]] = {
    "empty actions": ({"actions": []}, "actions"),
    "no actions": ({"actions": None}, "actions"),
    "action not an object": ({"actions": ["x"]}, "actions"),
    "action_id a number": ({"actions": [{"action_id": 7, "value": "v"}]}, "action_id"),
    "value missing": (
        {"actions": [{"action_id": "restate.run:recover-stuck-workflow:0"}]},
        "actions[0].value",
    ),
    "user missing": ({"user": None}, "user.id"),
    "user a string": ({"user": "UOPERATOR1"}, "user.id"),
    "unknown action": ({"actions": [{"action_id": "other", "value": "v"}]}, "payload"),
}


@pytest.mark.parametrize(("changes", "field"), ODD_CLICKS.values(), ids=ODD_CLICKS)
async def test_signed_odd_click_gets_200_and_an_explanation(
    bot: SlackBot, changes: dict[str, Any], field: str
) -> None:
    """A signed click payload with odd fields gets 200 and an ephemeral INVALID_INPUT."""
    payload = click_payload(bot, "odd", **changes)

    response = await bot.post(urlencode({"payload": json.dumps(payload)}), FORM)

    assert response.status_code == 200
    [reply] = await bot.replies("odd")
    assert reply.params["response_type"] == "ephemeral"
    assert "INVALID_INPUT" in reply.text
    assert field in reply.text
    await bot.settled()
    assert bot.fake.calls_to("chat.update") == []


@pytest.mark.parametrize("missing", ["channel_id", "user_id"])
async def test_signed_command_missing_a_field_gets_an_explanation(
    bot: SlackBot, missing: str
) -> None:
    """A signed slash command without its channel or user gets 200 and an ephemeral reply."""
    form = {
        "command": "/restate",
        "text": "doctor",
        "team_id": TEAM_ID,
        "channel_id": CHANNEL,
        "user_id": OPERATOR,
        "response_url": bot.fake.response_url("partial"),
    }
    del form[missing]

    response = await bot.post(urlencode(form), FORM)

    assert response.status_code == 200
    [reply] = await bot.replies("partial")
    assert "INVALID_INPUT" in reply.text
    assert missing in reply.text
