"""The watch per environment, with two real Restate servers: each environment has its own
subscriptions, leader and alerts, and every alert names the environment it is about.

``prod`` (production) and ``staging`` (the default) are two isolated servers with the sample
workflows registered on both; a check is the watcher's tick, driven one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.devstack import RestateServer, WorkflowIngress
from bot.slack_app import slack_web_client
from bot.watcher import build_watch
from core.environments import Environment
from core.restate.client import RestateAdminClient
from core.watch.engine import Watch
from handlers.alerts import SlackAlertNotifier
from handlers.blocks.environment import env_tag
from tests.integration.conftest import StartRestate, StartWorkflowService, wait_for_status
from tests.integration.environments_file import write_environments
from tests.integration.slack_harness import CHANNEL, OPERATOR, SlackBot, buttons, running_bot
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration

PAUSING = "PausingWorkflow"
STAGING_CHANNEL = "CSTAGING1"


@dataclass
class Server:
    server: RestateServer
    admin: RestateAdminClient
    ingress: WorkflowIngress

    async def paused_run(self) -> str:
        key = f"k{uuid.uuid4().hex[:10]}"
        submitted = await self.ingress.submit(PAUSING, key, {})
        await wait_for_status(self.admin, PAUSING, key, "paused")
        return submitted.invocation_id


@dataclass
class Stacks:
    prod: Server
    staging: Server


@pytest.fixture
async def stacks(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> AsyncIterator[Stacks]:
    """Two isolated servers (the rules count everything on a server), one sample service."""
    service = await start_workflow_service()
    prod_server, staging_server = await fresh_restate(), await fresh_restate()
    async with (
        RestateAdminClient(prod_server.admin_url) as prod_admin,
        WorkflowIngress(prod_server.ingress_url) as prod_ingress,
        RestateAdminClient(staging_server.admin_url) as staging_admin,
        WorkflowIngress(staging_server.ingress_url) as staging_ingress,
    ):
        for admin in (prod_admin, staging_admin):
            await admin.register_deployment(service.url, force=True)
        yield Stacks(
            Server(prod_server, prod_admin, prod_ingress),
            Server(staging_server, staging_admin, staging_ingress),
        )


@pytest.fixture
async def bot(
    tmp_path: Path, stacks: Stacks, redis_url: str, redis_prefix: str
) -> AsyncIterator[SlackBot]:
    def entry(server: RestateServer) -> dict[str, str | list[str]]:
        return {
            "admin_url": server.admin_url,
            "ingress_url": server.ingress_url,
            "operator_allowlist": [OPERATOR],
        }

    config = write_environments(
        tmp_path / "restate-ops.toml",
        {"prod": entry(stacks.prod.server), "staging": entry(stacks.staging.server)},
        default="staging",
    )
    async with running_bot(
        admin_url=stacks.staging.server.admin_url,
        ingress_url=None,
        redis_url=redis_url,
        prefix=redis_prefix,
        restate_ops_config=str(config),
        watch_prefix=f"{redis_prefix}watch:",
        watch_interval_s=0.2,
        watch_lease_s=3.0,
    ) as running:
        yield running


def watcher(bot: SlackBot, env: Environment, owner: str) -> Watch:
    """``env``'s watcher as ``serve`` builds it (``bot.watcher.start_watchers``)."""
    client = slack_web_client("xoxb-test-token", bot.fake.api_url)
    tag = env_tag(env, bot.services.environments.several)
    return build_watch(
        bot.services,
        SlackAlertNotifier(client, bot.services.pending, tag),
        environment=env,
        owner=owner,
    )


def alerts(bot: SlackBot, channel: str) -> list[SlackCall]:
    return bot.fake.calls_to(
        "chat.postMessage",
        lambda c: (
            c.params.get("channel") == channel
            and not c.params.get("thread_ts")
            and "Paused invocations" in c.text
        ),
    )


async def reply(bot: SlackBot, text: str, channel: str) -> str:
    _, hook = await bot.command(text, channel=channel)
    [answer] = await bot.replies(hook)
    return answer.text


async def test_each_environment_alerts_only_its_own_channels_and_names_itself(
    bot: SlackBot, stacks: Stacks
) -> None:
    """``watch env=prod`` subscribes a channel to prod only: prod's paused run alerts there as
    PROD, staging's alerts only the channel watching staging, and the audit names each."""
    prod = bot.services.environments.get("prod")
    staging = bot.services.environments.get("staging")
    assert "🔴 PROD · This channel is now watched" in await reply(bot, "watch env=prod", CHANNEL)
    assert "staging · This channel is now watched" in await reply(
        bot, "watch", STAGING_CHANNEL
    )  # the default environment
    await stacks.prod.paused_run()
    await stacks.staging.paused_run()
    prod_watch, staging_watch = watcher(bot, prod, "p"), watcher(bot, staging, "s")

    for _ in range(2):  # hysteresis: two checks
        await prod_watch.check()
        await staging_watch.check()

    [prod_alert] = alerts(bot, CHANNEL)
    [staging_alert] = alerts(bot, STAGING_CHANNEL)
    assert prod_alert.blocks[0]["text"]["text"].startswith("🚨 🔴 PROD · Paused invocations")
    assert staging_alert.blocks[0]["text"]["text"].startswith("🚨 staging · Paused invocations")
    assert "env=prod" in prod_alert.text or "env=prod" in str(prod_alert.blocks)
    watched = [
        (view.start.route, view.start.environment, view.outcome)
        for view in await bot.services.audit.latest(20)
        if view.start.route == "watch"
    ]
    assert sorted(watched) == [("watch", "prod", "succeeded"), ("watch", "staging", "succeeded")]


async def test_snooze_and_unwatch_act_on_the_named_environment_only(
    bot: SlackBot, stacks: Stacks
) -> None:
    """A channel watching both environments: a snooze of staging's paused rule leaves prod's
    alert coming, and unwatching prod leaves staging watched."""
    assert "now watched" in await reply(bot, "watch env=prod", CHANNEL)
    assert "now watched" in await reply(bot, "watch env=staging", CHANNEL)
    assert "staging · Alerts for `paused` are muted" in await reply(
        bot, "snooze paused 1h env=staging", CHANNEL
    )
    await stacks.prod.paused_run()
    await stacks.staging.paused_run()
    prod_watch = watcher(bot, bot.services.environments.get("prod"), "p")
    staging_watch = watcher(bot, bot.services.environments.get("staging"), "s")

    for _ in range(2):
        await prod_watch.check()
        await staging_watch.check()

    headers = [a.blocks[0]["text"]["text"] for a in alerts(bot, CHANNEL)]
    assert headers == ["🚨 🔴 PROD · Paused invocations: PausingWorkflow"]
    assert "no longer watched" in await reply(bot, "unwatch env=prod", CHANNEL)
    assert "staging · This channel is watched" in await reply(bot, "watch env=staging", CHANNEL)
    assert "🔴 PROD · This channel is now watched" in await reply(bot, "watch env=prod", CHANNEL)


async def test_a_prod_alerts_triage_button_previews_prod_invocations_only(
    bot: SlackBot, stacks: Stacks
) -> None:
    """The paused alert's fix carries its environment: the preview it opens lists prod's
    paused run (not staging's, paused on the same service) and names PROD."""
    assert "now watched" in await reply(bot, "watch env=prod", CHANNEL)
    prod_run = await stacks.prod.paused_run()
    staging_run = await stacks.staging.paused_run()
    prod_watch = watcher(bot, bot.services.environments.get("prod"), "p")
    await prod_watch.check()
    await prod_watch.check()
    [alert] = alerts(bot, CHANNEL)
    resume = next(
        b
        for b in buttons(alert, writes_only=False)
        if b["action_id"].startswith("restate.triage.preview:") and "Resume paused" in str(b)
    )

    await bot.click(alert, resume)
    [preview] = await bot.fake.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == alert.answer["ts"] and "Confirm" in c.text,
    )

    assert resume["value"].startswith("prod:")
    assert resume["text"]["text"].startswith("🔴 PROD · ")
    assert prod_run in preview.text
    assert staging_run not in preview.text
    assert "PROD" in preview.text
    previews = [
        (v.start.route, v.start.environment)
        for v in await bot.services.audit.latest(10)
        if v.start.route == "invocations-preview"
    ]
    assert previews == [("invocations-preview", "prod")]
