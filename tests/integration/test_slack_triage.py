"""``/restate invocations`` end to end: signed Slack requests, a real Restate and Redis.

Paused runs of ``FixableWorkflow`` under this test's own key prefix; the readout's kill button
previews the action in the thread; the requester's approval is refused, a second operator's
runs it; progress and the report land on the fake Slack.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.devstack import WorkflowIngress
from core.restate.client import RestateAdminClient
from tests.integration.conftest import StartBot
from tests.integration.slack_harness import (
    CHANNEL,
    GROUP_MEMBER,
    OPERATOR,
    SlackBot,
    buttons,
)
from tests.integration.test_triage_live import FIXABLE, discard, until_count

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix() -> str:
    return f"s{uuid.uuid4().hex[:8]}-"


@pytest.fixture
async def bot(start_bot: StartBot, prefix: str) -> AsyncIterator[SlackBot]:
    async with start_bot(service_url=None) as running:
        try:
            yield running
        finally:
            await discard(running.services.default.admin, prefix)


async def paused_runs(bot: SlackBot, prefix: str, n: int, flag: Path) -> None:
    ingress_url = str(bot.services.settings.restate_ingress_url)
    async with WorkflowIngress(ingress_url) as ingress:
        for i in range(n):
            await ingress.submit(FIXABLE, f"{prefix}{i}", {"fixedWhen": str(flag)})
    admin: RestateAdminClient = bot.services.default.admin
    assert await until_count(admin, prefix, "status = 'paused'", n) == n


async def test_readout_preview_two_person_approval_and_report_in_slack(
    bot: SlackBot, prefix: str, tmp_path: Path
) -> None:
    """Readout with buttons; kill previewed in thread; self-approval refused; gus runs it."""
    await paused_runs(bot, prefix, 3, tmp_path / "fixed")

    await bot.command(f"invocations paused service={FIXABLE} key-prefix={prefix}")
    [readout] = await bot.fake.wait_for("chat.postMessage")
    kill = next(b for b in buttons(readout, writes_only=False) if b["text"]["text"] == "Kill (3)")
    await bot.click(readout, kill, user=OPERATOR)
    [preview] = await bot.fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == readout.answer["ts"]
    )
    [approve, cancel] = buttons(preview, writes_only=False)
    _, own = await bot.click(preview, approve, user=OPERATOR)
    [refused] = await bot.replies(own)
    await bot.click(preview, approve, user=GROUP_MEMBER)
    final = (await bot.fake.wait_for("chat.update", lambda c: "Per-item report" in c.text))[0]
    # The report joins the thread the preview is in: the readout's.
    report = await bot.fake.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == readout.answer["ts"] and "Report" in c.text,
    )

    assert "3 invocation(s)" in readout.text
    assert "paused 3" in readout.text
    assert kill["style"] == "danger"
    assert (approve["text"]["text"], cancel["text"]["text"]) == ("Approve and run", "Cancel")
    assert refused.params["response_type"] == "ephemeral"
    assert "SELF_APPROVAL_REFUSED" in refused.text
    running = bot.fake.calls_to("chat.update", lambda c: "⏳ Running" in c.text)[0]
    stop = running.blocks[-1]["accessory"]
    assert (stop["action_id"], stop["value"]) == ("restate.triage.stop", approve["value"])
    assert "3 done, 0 skipped, 0 failed of 3" in final.text
    assert f"approved by <@{GROUP_MEMBER}>" in final.text
    assert str(report[0].params["text"]).count("✅ `inv_") == 3
    assert await until_count(bot.services.default.admin, prefix, "status = 'paused'", 0) == 0


async def test_bad_filter_words_get_the_usage_privately(bot: SlackBot) -> None:
    """An unknown filter word is answered ephemerally with the usage; nothing is posted."""
    _, hook = await bot.command("invocations colour=blue")

    [reply] = await bot.replies(hook)

    assert reply.params["response_type"] == "ephemeral"
    assert "Unknown filter 'colour'" in reply.text
    assert "/restate invocations" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []


def submission(view: dict[str, Any], values: dict[str, Any], user: str = OPERATOR) -> str:
    """The signed-form body of Slack's view_submission for ``view`` filled with ``values``."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": user, "username": "olivia", "name": "olivia", "team_id": "T0TEAM"},
        "api_app_id": "A0RESTATE",
        "token": "legacy-verification-token",
        "trigger_id": "trigger.view",
        "view": {**view, "id": "VFAKE1", "state": {"values": values}},
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_the_filter_form_posts_the_readout_or_marks_the_bad_field(
    bot: SlackBot, prefix: str, tmp_path: Path
) -> None:
    """Bare /restate invocations opens the form: a bad code is marked on its field, good posts."""
    await paused_runs(bot, prefix, 2, tmp_path / "fixed")

    await bot.command("invocations")
    [opened] = await bot.fake.wait_for("views.open")
    view = (
        json.loads(opened.params["view"])
        if isinstance(opened.params["view"], str)
        else opened.params["view"]
    )
    text = {"type": "plain_text_input"}
    bad = await bot.post(
        submission(view, {"triage.error_code": {"value": {**text, "value": "nope"}}}),
        "application/x-www-form-urlencoded",
    )
    good = await bot.post(
        submission(
            view,
            {
                "triage.key_prefix": {"value": {**text, "value": prefix}},
                "triage.status": {
                    "value": {
                        "type": "multi_static_select",
                        "selected_options": [{"value": "paused"}],
                    }
                },
            },
        ),
        "application/x-www-form-urlencoded",
    )
    [readout] = await bot.fake.wait_for("chat.postMessage")

    assert view["callback_id"] == "restate.triage.filter"
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"triage.error_code": "must look like RT0011"},
    }
    assert good.status_code == 200
    assert "2 invocation(s)" in readout.text
    assert readout.params["channel"] == CHANNEL
