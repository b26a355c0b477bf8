"""A claimed one-time button always runs, and its outcome reaches whichever channel still works.

The fake Slack answers HTTP 500 on chosen methods (``FakeSlack.failing``). Before, the pending
action was claimed and then the cosmetic ``chat.update`` raised, so the action was used up and
never ran; and a failed outcome post skipped the verify readout and the header update.
Also: two replicas on one Redis, 100 concurrent clicks on one button, one execution.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.devstack import WorkflowIngress
from core.audit import AttemptView
from tests.integration.conftest import RestateStack, StartBot
from tests.integration.slack_harness import (
    OPERATOR,
    SLACK_ACK_DEADLINE,
    WORKFLOW,
    SlackBot,
    doctor_button,
    failed_run,
    thread,
)
from tests.slack_fake import RESPONSE_URL

pytestmark = pytest.mark.integration

RECOVER = "recover-stuck-workflow"


@pytest.fixture
def key() -> str:
    return f"k{uuid.uuid4().hex[:10]}"


async def attempts(bot: SlackBot, route: str) -> list[AttemptView]:
    return [v for v in await bot.services.audit.latest(200) if v.start.route == route]


async def recovered(stack: RestateStack, key: str) -> bool:
    """Whether ``key`` starts again from a blank state (its failed run was purged)."""
    async with WorkflowIngress(stack.ingress_url) as ingress:
        submitted = await ingress.submit(WORKFLOW, key, {"mode": "succeed"})
        if submitted.previously_accepted:
            return False
        rerun = await ingress.attach(WORKFLOW, key)
    return bool(rerun.body == {"priorStep": None})


async def test_failed_lock_update_does_not_lose_the_action(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """With chat.update failing, the claimed recovery still runs, reports and verifies."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    bot.fake.failing["chat.update"] = 500

    response, hook = await bot.click(posted, button)
    await bot.settled()

    assert response.status_code == 200
    outcome, verify = thread(bot, posted)
    assert f"✅ Recover {WORKFLOW}/{key}: done" in outcome.text
    assert "Verify after" in verify.text
    [run] = await attempts(bot, RECOVER)
    assert run.outcome == "succeeded"
    # The buttons still went away: the response URL replaced the message instead.
    lock, final = bot.fake.delivered(RESPONSE_URL, lambda c: c.hook == hook)
    assert (lock.params["replace_original"], final.params["replace_original"]) == (True, True)
    assert f"✅ *Recover {WORKFLOW}/{key}* by <@{OPERATOR}>: purged 1" in final.text
    assert await recovered(restate_stack, key)


async def test_failed_outcome_post_still_verifies_and_marks_the_header(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """With thread posts failing, outcome and verify go through the response URL; the message
    still shows the result."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    bot.fake.failing["chat.postMessage"] = 500

    _, hook = await bot.click(posted, button)
    await bot.settled()

    outcome, verify = bot.fake.delivered(RESPONSE_URL, lambda c: c.hook == hook)
    assert outcome.params["response_type"] == "in_channel"
    assert f"✅ Recover {WORKFLOW}/{key}: done" in outcome.text
    assert "Verify after" in verify.text
    lock, final = bot.fake.delivered("chat.update")
    assert "⏳" in lock.text
    assert f"✅ *Recover {WORKFLOW}/{key}* by <@{OPERATOR}>: purged 1" in final.text


async def test_every_report_failing_still_runs_verifies_and_updates_the_header(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """With no way to post, the recovery and its verify still run, and the message shows it."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    bot.fake.failing["chat.postMessage"] = 500
    bot.fake.failing[RESPONSE_URL] = 500

    await bot.click(posted, button)
    await bot.settled()

    [run] = await attempts(bot, RECOVER)
    assert run.outcome == "succeeded"
    doctors = await attempts(bot, "doctor")
    assert len(doctors) == 2  # the readout, then the verify after the recovery
    final = bot.fake.delivered("chat.update")[-1]
    assert f"✅ *Recover {WORKFLOW}/{key}* by <@{OPERATOR}>: purged 1" in final.text


async def test_claimed_action_runs_even_when_slack_fails_everything(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """Even with every Slack call failing after the claim, the recovery runs exactly once."""
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    for method in ("chat.update", "chat.postMessage", RESPONSE_URL):
        bot.fake.failing[method] = 500

    await bot.click(posted, button)
    await bot.settled()

    [run] = await attempts(bot, RECOVER)
    assert run.outcome == "succeeded"
    assert await recovered(restate_stack, key)


async def test_two_replicas_run_one_button_once_under_100_concurrent_clicks(
    restate_stack: RestateStack, start_bot: StartBot, key: str
) -> None:
    """100 concurrent clicks on one button across two replicas: all acked in time, one run."""
    await failed_run(restate_stack, key)

    async with start_bot() as first, start_bot(fake=first.fake) as second:
        posted, button = await doctor_button(first, key)

        clicks = await asyncio.gather(
            *(bot.click(posted, button, user=OPERATOR) for bot in [first, second] * 50)
        )
        await asyncio.gather(first.settled(), second.settled())

        assert {response.status_code for response, _ in clicks} == {200}
        assert max(response.elapsed for response, _ in clicks) < SLACK_ACK_DEADLINE
        [run] = await attempts(first, RECOVER)
        assert run.outcome == "succeeded"
        refused = first.fake.calls_to(
            RESPONSE_URL, lambda c: "PENDING_ACTION_UNAVAILABLE" in c.text
        )
        assert len(refused) == 99
        outcome, _verify = thread(first, posted)
        assert f"✅ Recover {WORKFLOW}/{key}: done" in outcome.text
