"""No credential reaches Slack: a deployment URI's ``user:password`` is redacted on the way out.

Restate stores a deployment URI with its user info and echoes it in every answer, so the readout,
the advice, the confirm dialogs, previews, errors, outcomes and ``chat.update`` re-sends all carry
it. The bot redacts where text leaves the process (every Web API call, every response-URL post),
so this test drives every kind of message on a real Restate and searches every recorded call.
"""

from __future__ import annotations

import json

import pytest

from bot.devstack import RestateServer, WorkflowService
from core.restate.client import RestateAdminClient
from tests.integration.conftest import StartRestate, StartWorkflowService
from tests.integration.slack_harness import CHANNEL, SlackBot, buttons, in_channel, running_bot
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration

PASSWORD = "hunter2-s3cret-pw"


def with_credentials(service: WorkflowService) -> str:
    return service.url.replace("http://", f"http://ops:{PASSWORD}@", 1)


async def register(server: RestateServer, uri: str) -> str:
    async with RestateAdminClient(server.admin_url) as admin:
        return (await admin.register_deployment(uri, force=True)).id


async def click_only_button(bot: SlackBot, message: SlackCall, updates: int) -> None:
    [button] = buttons(message)
    await bot.click(message, button)
    await bot.fake.wait_for("chat.update", count=updates)
    await bot.settled()


async def test_no_slack_call_carries_a_deployment_password(
    fresh_restate: StartRestate,
    start_workflow_service: StartWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """Readout, advice, confirm text, previews, errors, outcomes and updates never show it."""
    server = await fresh_restate()
    old, live = await start_workflow_service(), await start_workflow_service()
    await register(server, with_credentials(old))
    live_uri = with_credentials(live)

    async with running_bot(
        admin_url=server.admin_url,
        ingress_url=server.ingress_url,
        redis_url=redis_url,
        prefix=redis_prefix,
        service_url=live_uri,
    ) as bot:
        # The live service is not registered: doctor offers a redeploy of its (secret) URL.
        await bot.command("doctor")
        [readout] = await bot.fake.wait_for("chat.postMessage", in_channel)
        await click_only_button(bot, readout, updates=2)
        # Now the old deployment is drained: doctor offers its cleanup, naming both URIs.
        await bot.command("doctor")
        readouts = await bot.fake.wait_for(
            "chat.postMessage", lambda c: "thread_ts" not in c.params, count=2
        )
        await click_only_button(bot, readouts[1], updates=4)
        # Typed writes: a preview, and an error naming an unknown (secret) URL.
        await bot.command("redeploy")
        [preview] = await bot.fake.wait_for("chat.postMessage", lambda c: "Confirm:" in c.text)
        _, error_hook = await bot.command(f"cleanup http://ops:{PASSWORD}@nowhere.invalid:9080/")
        [error] = await bot.replies(error_hook)
        # Not in the channel: the readout goes through the response URL.
        bot.fake.not_in_channel.add(CHANNEL)
        _, fallback_hook = await bot.command("doctor")
        _, fallback = await bot.replies(fallback_hook, count=2)  # the readout, its details
        await bot.settled()

    leaks = [c.method for c in bot.fake.calls if PASSWORD in json.dumps(c.params)]
    assert leaks == []
    assert "RESTATE_DEPLOYMENT_NOT_FOUND" in error.text
    shown = [c for c in bot.fake.calls if "ops:REDACTED@" in c.text or "//REDACTED@" in c.text]
    kinds = {(c.method, c.params.get("response_type")) for c in shown}
    assert {
        ("chat.postMessage", None),
        ("chat.update", None),
        ("response_url", "in_channel"),
    } <= kinds
    assert "REDACTED@" in error.text
    assert "REDACTED@" in fallback.text
    assert "REDACTED@" in preview.text
