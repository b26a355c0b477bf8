"""Button clicks end to end: authorize the clicker, act once, report in the thread, verify.

A real workflow run fails terminally (or hangs) on the session's Restate server; doctor offers
its recovery as a button; clicks are signed block_actions payloads built from the message the
bot really posted to the fake Slack.
"""

from __future__ import annotations

import uuid

import pytest

from bot.devstack import WorkflowIngress
from core.restate.client import RestateAdminClient
from tests.integration.conftest import RestateStack, wait_for_status
from tests.integration.slack_harness import (
    CHANNEL,
    OPERATOR,
    VISITOR,
    WORKFLOW,
    SlackBot,
    buttons,
    doctor_button,
    failed_run,
    in_channel,
    thread,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def key() -> str:
    """A short workflow key of this test's own (runs are deterministic per service and key)."""
    return f"k{uuid.uuid4().hex[:10]}"


async def test_recover_button_offers_exactly_the_failed_key(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """A terminal-failed run is posted in the channel with a danger recover button and preview."""
    await failed_run(restate_stack, key)

    posted, button = await doctor_button(bot, key)

    assert button["style"] == "danger"
    assert button["confirm"]["style"] == "danger"
    assert f"Recover {key}" == button["text"]["text"]
    assert "Kill and purge" in button["confirm"]["text"]["text"]
    assert key in posted.text  # listed under recent failures


async def test_operator_click_recovers_and_verifies_in_thread(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """An operator's click locks the message, recovers the key, reports and verifies in thread."""
    invocation = await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)

    response, _ = await bot.click(posted, button, user=OPERATOR)

    assert response.status_code == 200
    lock, final = await bot.fake.wait_for("chat.update", count=2)
    assert f"⏳ *Recover {WORKFLOW}/{key}* confirmed by <@{OPERATOR}>" in lock.text
    assert buttons(lock) == []
    outcome, verify = thread(bot, posted)
    assert f"✅ Recover {WORKFLOW}/{key}: done" in outcome.text
    assert invocation in outcome.text  # killed / purged ids
    assert "Verify after" in verify.text
    assert f"failure gone: {WORKFLOW}/{key} ({invocation})" in verify.text
    # The message is rebuilt from the readout after the action: verdict, who ran what, result.
    assert final.blocks[0]["text"]["text"].startswith(("✅", "🟠"))
    assert (
        f"✅ *Recover {WORKFLOW}/{key}* by <@{OPERATOR}>: purged 1 failed run, state cleared"
        in final.text
    )
    assert not [b for b in buttons(final) if key in b["confirm"]["text"]["text"]]
    async with WorkflowIngress(restate_stack.ingress_url) as ingress:
        await ingress.submit(WORKFLOW, key, {"mode": "succeed"})
        rerun = await ingress.attach(WORKFLOW, key)
    assert rerun.body == {"priorStep": None}  # the key started again from a blank state


async def test_visitor_click_is_denied_and_changes_nothing(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """A click from outside the allowlist is refused privately, audited, and keeps the button."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)

    _, hook = await bot.click(posted, button, user=VISITOR)

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text
    assert bot.fake.calls_to("chat.update") == []
    [view] = await bot.services.audit.latest(1)
    assert (
        view.start.actor.id,
        view.start.route,
        view.outcome,
    ) == (VISITOR, "recover-stuck-workflow", "denied")
    assert posted.answer["ts"] == view.start.context["message_ts"]
    # The offer is untouched: an operator can still use it.
    await bot.click(posted, button, user=OPERATOR)
    await bot.fake.wait_for("chat.update", count=2)


async def test_second_click_is_refused(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """The same button clicked again after it ran gets "run doctor again" and runs nothing."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    await bot.click(posted, button)
    await bot.fake.wait_for("chat.update", count=2)

    _, hook = await bot.click(posted, button)

    [reply] = await bot.replies(hook)
    assert "PENDING_ACTION_UNAVAILABLE" in reply.text
    assert "/restate doctor" in reply.text
    assert len(bot.fake.calls_to("chat.update")) == 2


async def test_expired_button_is_refused(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """A button whose pending action expired in Redis gets "run doctor again" and runs nothing."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    [stored] = [k async for k in bot.services.redis.scan_iter(match=f"*{button['value']}")]
    await bot.services.redis.pexpire(stored, 1)
    while await bot.services.redis.exists(stored):
        await bot.services.redis.pexpire(stored, 1)

    _, hook = await bot.click(posted, button)

    [reply] = await bot.replies(hook)
    assert "expired or was already used" in reply.text
    assert bot.fake.calls_to("chat.update") == []


async def test_blocked_recovery_reports_reason_and_invocation(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """A key whose run became active after the preview is refused with the reason and id."""
    await bot.command(f"recover {WORKFLOW} {key} customer retried twice")

    [preview] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert f"Confirm: Recover {WORKFLOW}/{key}" in preview.text
    assert "customer retried twice" in preview.text
    [button] = buttons(preview)
    async with WorkflowIngress(restate_stack.ingress_url) as ingress:
        running = await ingress.submit(WORKFLOW, key, {"mode": "hang"})
    async with RestateAdminClient(restate_stack.admin_url) as admin:
        await wait_for_status(admin, WORKFLOW, key, "suspended")
    await bot.click(preview, button)
    await bot.fake.wait_for("chat.update", count=2)
    outcome, verify = thread(bot, preview)
    assert "RESTATE_WORKFLOW_RETRY_BLOCKED" in outcome.text
    assert "a run of this key is still active" in outcome.text
    assert running.invocation_id in outcome.text
    assert "Verify after" in verify.text
    final = bot.fake.calls_to("chat.update")[-1]
    blocked = f"❌ *Recover {WORKFLOW}/{key}* by <@{OPERATOR}>: blocked: a run of this key"
    assert blocked in final.text
    assert running.invocation_id in final.text
    [view] = [v for v in await bot.services.audit.latest(5) if v.start.route != "doctor"][:1]
    assert (view.outcome, view.start.reason) == ("blocked", "customer retried twice")


async def test_click_without_the_bot_in_channel_uses_the_response_url(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """When the readout came through the response URL, the click flow answers through it too."""
    await failed_run(restate_stack, key)
    bot.fake.not_in_channel.add(CHANNEL)
    _, command_hook = await bot.command("doctor")
    readout, details = await bot.replies(command_hook, count=2)
    assert "Recent failures" in details.text  # the details follow instead of a thread
    button = next(b for b in buttons(readout) if f"/{key}" in b["confirm"]["text"]["text"])

    _, hook = await bot.click(readout, button)

    lock, outcome, verify, final = await bot.replies(hook, count=4)
    assert lock.params["replace_original"] is True
    assert buttons(lock) == []
    assert (outcome.params["response_type"], verify.params["response_type"]) == (
        "in_channel",
        "in_channel",
    )
    assert f"✅ Recover {WORKFLOW}/{key}: done" in outcome.text
    assert "Verify after" in verify.text
    assert final.params["replace_original"] is True
    assert "details in the messages below" in final.text
    assert bot.fake.calls_to("chat.update") == []
