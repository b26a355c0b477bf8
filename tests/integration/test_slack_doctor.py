"""Doctor in the channel: the right buttons for each doctor signal, on real Restate servers.

Deployment signals need a server of their own (``fresh_restate``); workflow signals use the
session's server with keys of their own. Restate down is covered in ``test_slack_http``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from bot.devstack import RestateServer, WorkflowIngress, WorkflowService, invocation_row
from core.restate.client import RestateAdminClient
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
    wait_for_status,
)
from tests.integration.slack_harness import (
    SlackBot,
    buttons,
    in_channel,
    running_bot,
    thread,
)
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration

BotFor = Callable[[str, str, str | None], AbstractAsyncContextManager[SlackBot]]


@pytest.fixture
def bot_for(redis_url: str, redis_prefix: str) -> BotFor:
    """Factory: a bot for (admin URL, ingress URL, live service URL)."""

    def make(admin: str, ingress: str, live: str | None) -> AbstractAsyncContextManager[SlackBot]:
        return running_bot(
            admin_url=admin,
            ingress_url=ingress,
            redis_url=redis_url,
            prefix=redis_prefix,
            service_url=live,
        )

    return make


async def register(server: RestateServer, service: WorkflowService) -> str:
    async with RestateAdminClient(server.admin_url) as admin:
        return (await admin.register_deployment(service.url, force=True)).id


async def doctor(bot: SlackBot) -> SlackCall:
    await bot.command("doctor")
    [posted] = await bot.fake.wait_for("chat.postMessage", in_channel)
    return posted


async def click_and_wait(bot: SlackBot, posted: SlackCall) -> list[SlackCall]:
    """Click the message's only button; return the thread (outcome, verify)."""
    [button] = buttons(posted)
    await bot.click(posted, button)
    await bot.fake.wait_for("chat.update", count=2)
    return thread(bot, posted)


async def test_healthy_readout_has_no_button(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService, bot_for: BotFor
) -> None:
    """With the live service registered and nothing failing, doctor posts no button."""
    server, service = await fresh_restate(), await start_workflow_service()
    await register(server, service)

    async with bot_for(server.admin_url, server.ingress_url, service.url) as bot:
        posted = await doctor(bot)

    assert posted.blocks[0]["text"]["text"] == "✅ Restate doctor: all clear"
    assert "Nothing to do" in posted.text
    assert buttons(posted) == []


async def test_unregistered_live_service_offers_force_redeploy(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService, bot_for: BotFor
) -> None:
    """A live service URL missing from Restate is offered as a (non-destructive) redeploy."""
    server, service = await fresh_restate(), await start_workflow_service()

    async with bot_for(server.admin_url, server.ingress_url, service.url) as bot:
        posted = await doctor(bot)
        [button] = buttons(posted)
        assert button["style"] == "primary"
        assert service.url in button["confirm"]["text"]["text"]
        outcome, verify = await click_and_wait(bot, posted)

    assert "Registered" in outcome.text
    assert "dp_" in outcome.text
    assert "deployment dp_" in verify.text
    assert "added" in verify.text


async def test_stale_deployment_offers_cleanup_with_exact_preview(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService, bot_for: BotFor
) -> None:
    """A drained old deployment is offered for deletion, naming what goes and what stays."""
    server = await fresh_restate()
    old, live = await start_workflow_service(), await start_workflow_service()
    old_id = await register(server, old)
    live_id = await register(server, live)

    async with bot_for(server.admin_url, server.ingress_url, live.url) as bot:
        posted = await doctor(bot)
        [button] = buttons(posted)
        preview = button["confirm"]["text"]["text"]
        assert button["style"] == "danger"
        assert f"Delete 1 stale deployment: {old_id} (drained)." in preview
        assert f"Keep {live_id} ({live.url})" in preview
        outcome, verify = await click_and_wait(bot, posted)

    assert old_id in outcome.text
    assert "deleted" in outcome.text
    assert f"deployment {old_id} removed" in verify.text


@pytest.fixture
async def backing_off_key(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> AsyncIterator[str]:
    key = f"k{uuid.uuid4().hex[:10]}"
    async with WorkflowIngress(restate_stack.ingress_url) as ingress:
        await ingress.submit("InvitationWorkflow", key, {"mode": "flaky"})
    async with RestateAdminClient(restate_stack.admin_url) as admin:
        await wait_for_status(admin, "InvitationWorkflow", key, "backing-off")
        yield key
        row = await invocation_row(admin, "InvitationWorkflow", key)
        if row is not None:  # leave the shared server without a run retrying for minutes
            await admin.kill_invocation(str(row["id"]))


async def test_stuck_run_is_listed_without_a_recover_button(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    backing_off_key: str,
    bot_for: BotFor,
) -> None:
    """A backing-off run is shown as stuck with advice to inspect it, never a recover button."""
    async with bot_for(
        restate_stack.admin_url, restate_stack.ingress_url, workflow_service.url
    ) as bot:
        posted = await doctor(bot)
        await bot.settled()
        [details] = thread(bot, posted, details=True)
        row = next(b for b in posted.blocks if backing_off_key in b.get("text", {}).get("text", ""))
        _, hook = await bot.click(posted, row["accessory"])
        [shown] = await bot.replies(hook)

    assert posted.blocks[0]["text"]["text"].startswith("🟠 Restate doctor")
    assert "*backing-off*" in row["text"]["text"]
    assert "restate invocations cancel --kill inv_" in row["text"]["text"]  # id and next step
    assert row["accessory"]["text"]["text"] == "Details"
    assert not [b for b in buttons(posted) if backing_off_key in b["confirm"]["text"]["text"]]
    assert "Stuck retrying" in details.text  # the full readout is the thread's first reply
    assert backing_off_key in details.text
    # Details: read-only, answered privately from a fresh readout.
    assert shown.params["response_type"] == "ephemeral"
    assert row["accessory"]["value"] in shown.text
    assert "Why no recover button" in shown.text
    assert f"/invocations/{row['accessory']['value']}/kill" in shown.text
