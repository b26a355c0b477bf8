"""Every refusal keeps its acknowledgement: HTTP 200 well inside Slack's 3 s, then a private reply.

With Bolt's asynchronous runner, a listener that acked and then raised had its ack erased and
Slack saw 404 after 3 s ("dispatch_failed"). Now a listener only acks and starts its work in the
background; refusals are answered there with the error code, the next step and a request id.
The deadline is Slack's contract, so it is asserted here (timing targets live in ``bench/``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from core.pending import PendingAction
from handlers.ids import OFFERS_BLOCK, run_action_id
from tests.integration.slack_harness import (
    CHANNEL,
    SLACK_ACK_DEADLINE,
    VISITOR,
    SlackBot,
    in_channel,
    running_bot,
)
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration


def offer_message(pending_id: str) -> tuple[SlackCall, dict[str, Any]]:
    """A readout as the bot posts it, with one recover button carrying ``pending_id``."""
    element = {
        "type": "button",
        "action_id": run_action_id("recover-stuck-workflow", 0),
        "text": {"type": "plain_text", "text": "Recover IdentityRecoveryWorkflow/k1"},
        "value": pending_id,
    }
    blocks = [{"type": "actions", "block_id": OFFERS_BLOCK, "elements": [element]}]
    message = SlackCall(
        "chat.postMessage",
        {"channel": CHANNEL, "blocks": blocks, "text": "Restate doctor"},
        "xoxb-test-token",
        answer={"ts": "1700000000.000042"},
    )
    return message, element


async def offered(bot: SlackBot) -> str:
    """Store a pending recover action the way doctor does; return its id."""
    action = PendingAction(
        route="recover-stuck-workflow",
        args={"serviceName": "IdentityRecoveryWorkflow", "serviceKey": "k1"},
        preview="Kill and purge the failed run of IdentityRecoveryWorkflow/k1.",
        offered_to="UOPERATOR1",
        context={"channel": CHANNEL, "title": "Recover IdentityRecoveryWorkflow/k1"},
    )
    return await bot.services.pending.offer(action)


Send = Callable[[SlackBot], Awaitable[tuple[httpx.Response, str]]]


def command(text: str, **options: Any) -> Send:
    async def send(bot: SlackBot) -> tuple[httpx.Response, str]:
        return await bot.command(text, **options)

    return send


async def visitor_click(bot: SlackBot) -> tuple[httpx.Response, str]:
    message, button = offer_message(await offered(bot))
    return await bot.click(message, button, user=VISITOR)


async def expired_click(bot: SlackBot) -> tuple[httpx.Response, str]:
    message, button = offer_message("never-offered-or-long-expired")
    return await bot.click(message, button)


async def used_click(bot: SlackBot) -> tuple[httpx.Response, str]:
    pending_id = await offered(bot)
    await bot.services.pending.claim(pending_id)  # another click got there first
    message, button = offer_message(pending_id)
    return await bot.click(message, button)


@dataclass(frozen=True)
class Refusal:
    send: Send
    code: str
    says: str


REFUSALS = {
    "unknown subcommand": Refusal(command("frobnicate"), "INVALID_INPUT", "Unknown command"),
    "extra words": Refusal(command("doctor now please"), "INVALID_INPUT", "'now please'"),
    "audit count": Refusal(command("audit 999"), "INVALID_INPUT", "from 1 to 50"),
    "invalid value": Refusal(
        command("recover IdentityRecoveryWorkflow bad/key"), "INVALID_INPUT", "serviceKey"
    ),
    "denied command": Refusal(
        command("doctor", user=VISITOR), "OFFCHAIN_USER_PERMISSION_REQUIRED", VISITOR
    ),
    "denied audit": Refusal(
        command("audit", user=VISITOR), "OFFCHAIN_USER_PERMISSION_REQUIRED", VISITOR
    ),
    "denied click": Refusal(visitor_click, "OFFCHAIN_USER_PERMISSION_REQUIRED", VISITOR),
    "expired button": Refusal(expired_click, "PENDING_ACTION_UNAVAILABLE", "/restate doctor"),
    "used button": Refusal(used_click, "PENDING_ACTION_UNAVAILABLE", "already used"),
    "not found": Refusal(
        command("cleanup http://nowhere.invalid:9080/v1"),
        "RESTATE_DEPLOYMENT_NOT_FOUND",
        "nowhere.invalid",
    ),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_refusal_is_acknowledged_in_time_and_explained(bot: SlackBot, case: Refusal) -> None:
    """A refusal answers 200 within Slack's deadline, then privately with code, next step and id."""
    response, hook = await case.send(bot)

    assert (response.status_code, response.text) == (200, "")
    assert response.elapsed < SLACK_ACK_DEADLINE
    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert case.code in reply.text
    assert case.says in reply.text
    assert "Next:" in reply.text
    assert "Request id: req_" in reply.text.replace("`", "")


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_refusal_changes_nothing_in_the_channel(bot: SlackBot, case: Refusal) -> None:
    """A refused request posts nothing in the channel and updates no message."""
    _, hook = await case.send(bot)
    await bot.replies(hook)
    await bot.settled()

    assert bot.fake.calls_to("chat.postMessage") == []
    assert bot.fake.calls_to("chat.update") == []


# --- the ack leaves before any Restate or Redis call ------------------------------------------


class BlackHole:
    """A TCP server that accepts connections and never answers; counts opened and closed ones."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> BlackHole:
        self._server = await asyncio.start_server(self._swallow, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        async with asyncio.timeout(10):
            while self.closed < self.opened:  # each handler has seen its connection go
                self._changed.clear()
                await self._changed.wait()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        self._writers.append(writer)
        self._changed.set()
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        finally:
            self.closed += 1
            writer.close()
            self._changed.set()

    async def wait_opened(self) -> None:
        async with asyncio.timeout(20):
            while not self.opened:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def hanging_bot(redis_prefix: str) -> AsyncIterator[tuple[SlackBot, BlackHole]]:
    """The bot with Restate's admin API, its ingress and Redis all hanging forever."""
    async with BlackHole() as hole:
        url = f"http://127.0.0.1:{hole.port}"
        async with running_bot(
            admin_url=url,
            ingress_url=url,
            redis_url=f"redis://127.0.0.1:{hole.port}/0",
            prefix=redis_prefix,
            service_url="http://127.0.0.1:9/live",
        ) as bot:
            try:
                yield bot, hole
            finally:
                await bot.background.drain(timeout_s=0)  # cancel the work still hanging


async def hanging_click(bot: SlackBot) -> tuple[httpx.Response, str]:
    message, button = offer_message("some-pending-id")
    return await bot.click(message, button)


WORK = {
    "doctor": command("doctor"),
    "typed write": command("recover IdentityRecoveryWorkflow k1"),
    "audit": command("audit 5"),
    "click": hanging_click,
}


@pytest.mark.parametrize("send", WORK.values(), ids=WORK.keys())
async def test_ack_returns_before_any_restate_or_redis_call(
    hanging_bot: tuple[SlackBot, BlackHole], send: Send
) -> None:
    """The acknowledgement arrives while the request's Redis/Restate calls still hang."""
    bot, hole = hanging_bot

    response, _ = await send(bot)
    closed_at_ack = hole.closed

    assert response.status_code == 200
    await hole.wait_opened()  # the work did go to Restate or Redis ...
    assert closed_at_ack == 0  # ... and no call had given up (timed out) before the ack left


async def test_failing_auth_test_delays_no_ack(bot: SlackBot) -> None:
    """With Slack's auth.test failing, the first commands are still acked at once and served."""
    bot.fake.failing["auth.test"] = 500

    first, first_hook = await bot.command("help")
    second, second_hook = await bot.command("doctor")

    assert [(r.status_code, r.text) for r in (first, second)] == [(200, ""), (200, "")]
    [usage] = await bot.replies(first_hook)
    assert "/restate recover [<serviceName>" in usage.text
    [readout] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert "Restate doctor" in readout.text
    assert "invite" not in readout.text.lower()  # posted by the bot itself, not via the hook
    del second_hook
