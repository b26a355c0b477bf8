"""The Slack edge's pure pieces: signature check, odd payloads, redaction, background work."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.slack_events import signature_ok
from handlers.background import Background
from handlers.boundary import _arguments, redact_strings
from handlers.payloads import odd_payload

SECRET = b"unit-signing-secret"
NOW = 1_700_000_000.0


def signed(raw: bytes, timestamp: str, secret: bytes = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def test_signature_made_like_slack_is_accepted() -> None:
    """A body signed with the secret within the window is accepted."""
    ts = str(int(NOW) - 299)
    assert signature_ok(SECRET, ts, signed(b"a=1", ts), b"a=1", now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "body_signed", "secret"),
    [
        (str(int(NOW) - 301), b"a=1", SECRET),  # stale
        (str(int(NOW) + 301), b"a=1", SECRET),  # from the future
        ("170000000x", b"a=1", SECRET),  # not a number
        ("", b"a=1", SECRET),
        (str(int(NOW)), b"a=2", SECRET),  # another body
        (str(int(NOW)), b"a=1", b"other-secret"),
    ],
)
def test_bad_timestamp_body_or_secret_is_refused(
    timestamp: str, body_signed: bytes, secret: bytes
) -> None:
    """Stale, future or non-numeric timestamps, other bodies and other secrets are refused."""
    signature = signed(body_signed, timestamp or "0", secret)
    assert not signature_ok(SECRET, timestamp, signature, b"a=1", now=NOW)


def test_empty_secret_refuses_everything() -> None:
    """Without a signing secret nothing is accepted, not even a body signed with ``""``."""
    ts = str(int(NOW))
    assert not signature_ok(b"", ts, signed(b"a=1", ts, b""), b"a=1", now=NOW)


def test_non_ascii_signature_is_refused_not_raised() -> None:
    """A signature header with non-ASCII characters is simply wrong."""
    assert not signature_ok(SECRET, str(int(NOW)), "v0=é\udcff", b"a=1", now=NOW)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "block_actions"}, "actions"),
        ({"type": "block_actions", "actions": []}, "actions"),
        ({"type": "block_actions", "actions": "x"}, "actions"),
        ({"type": "interactive_message", "actions": [1]}, "actions"),
        ({"type": "block_actions", "actions": [{"action_id": 3}]}, "actions[0].action_id"),
    ],
)
def test_payloads_bolt_would_crash_on_are_named(body: dict[str, object], field: str) -> None:
    """A click without a readable first action is an InvalidInput naming the field."""
    problem = odd_payload(body)
    assert problem is not None
    assert problem.field == field


def test_ordinary_payloads_pass() -> None:
    """Commands and well-formed clicks go on to Bolt."""
    click = {"type": "block_actions", "actions": [{"action_id": "a"}]}
    assert (odd_payload({"command": "/restate"}), odd_payload(click)) == (None, None)


def test_every_string_is_redacted_at_any_depth() -> None:
    """URL user info is removed from nested dicts, lists and Block Kit objects."""
    block = SectionBlock(text=MarkdownTextObject(text="see http://u:pw@h:1/x"))
    payload = {"text": "http://u:pw@h", "blocks": [block], "n": [("x", "http://a:b@c")]}

    redacted = redact_strings(payload)

    assert "pw" not in str(redacted)
    assert ":b@" not in str(redacted)
    assert redacted["blocks"][0]["text"]["text"] == "see http://REDACTED@h:1/x"


def test_the_calls_own_token_argument_is_kept() -> None:
    """The token a call authenticates with is not text: it is passed on untouched."""
    args = _arguments({"token": "xapp-1-A0-123-abcdef0123", "text": "xoxb-123456789-abc"})

    assert args == {"token": "xapp-1-A0-123-abcdef0123", "text": "[REDACTED]"}


async def test_background_runs_at_most_limit_at_once() -> None:
    """Work beyond the limit waits for a slot; all of it runs."""
    background, running, peak, done = Background(limit=2), 0, 0, 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        done += 1

    for n in range(5):
        background.start(work(), name=f"w{n}")
    for _ in range(10):
        await asyncio.sleep(0)
    release.set()
    await background.drain(timeout_s=5)

    assert (peak, done, background.running) == (2, 5, 0)


async def test_drain_cancels_what_outlives_it() -> None:
    """Work still running after the drain timeout is cancelled, waiting work included."""
    background = Background(limit=1)
    for n in range(3):
        background.start(asyncio.Event().wait(), name=f"stuck{n}")  # type: ignore[arg-type]

    await background.drain(timeout_s=0)

    assert background.running == 0


async def test_drain_cancels_again_work_whose_cancellation_was_lost() -> None:
    """A cancellation lost inside a Redis call (Python 3.11, ``core.tasks``) is repeated."""
    background = Background()
    cancels = 0

    async def loses_the_first_cancellation() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancels += 1
                if cancels > 1:
                    raise

    background.start(loses_the_first_cancellation(), name="stubborn")
    await asyncio.sleep(0)
    await background.drain(timeout_s=0.01)

    assert (background.running, cancels) == (0, 2)
