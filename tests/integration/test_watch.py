"""The watcher end to end: real Restate, real Redis, the bot's real Slack endpoint, a fake Slack.

Each test gets an isolated Restate server (the rules count everything on a server, so runs of
other tests must not count) and drives checks one at a time with ``Watch.check()``: a check is
the watcher's tick, so "within two intervals" means "after two checks".
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.devstack import RestateServer, WorkflowIngress, WorkflowService
from bot.slack_app import slack_web_client
from bot.watcher import build_watch
from core.restate.client import RestateAdminClient
from core.watch.alerts import AlertView, ResolvedView
from core.watch.engine import Watch
from core.watch.lease import LeaderLease
from core.watch.store import PostedMessage, WatchStore
from handlers.alerts import SlackAlertNotifier
from tests.integration.conftest import StartRestate, StartWorkflowService, wait_for_status
from tests.integration.slack_harness import (
    CHANNEL,
    OPERATOR,
    VISITOR,
    SlackBot,
    buttons,
    running_bot,
)
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration

PAUSING = "PausingWorkflow"
FIXABLE = "FixableWorkflow"
RECOVERY = "IdentityRecoveryWorkflow"
OTHER_CHANNEL = "COTHER1"


@dataclass
class Stack:
    server: RestateServer
    service: WorkflowService
    admin: RestateAdminClient
    ingress: WorkflowIngress


@pytest.fixture
async def stack(
    fresh_restate: StartRestate, start_workflow_service: StartWorkflowService
) -> AsyncIterator[Stack]:
    """An isolated Restate server with the sample workflows registered."""
    server = await fresh_restate()
    service = await start_workflow_service()
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        await admin.register_deployment(service.url, force=True)
        yield Stack(server, service, admin, ingress)


@pytest.fixture
async def bot(stack: Stack, redis_url: str, redis_prefix: str) -> AsyncIterator[SlackBot]:
    async with running_bot(
        admin_url=stack.server.admin_url,
        ingress_url=stack.server.ingress_url,
        redis_url=redis_url,
        prefix=redis_prefix,
        service_url=stack.service.url,
        watch_prefix=f"{redis_prefix}watch:",
        watch_interval_s=0.2,
        # Long enough that a slow check on a busy machine never loses it between two checks.
        watch_lease_s=3.0,
    ) as running:
        yield running


def replica(bot: SlackBot, owner: str, *, now: datetime | None = None) -> Watch:
    """A watcher as ``serve`` builds it, posting to the fake Slack; ``now`` fixes its clock."""
    client = slack_web_client("xoxb-test-token", bot.fake.api_url)
    notifier = SlackAlertNotifier(client, bot.services.pending)
    if now is None:
        return build_watch(bot.services, notifier, owner=owner)
    return build_watch(bot.services, notifier, owner=owner, now=lambda: now)


def key() -> str:
    return f"k{uuid.uuid4().hex[:10]}"


def alerts(bot: SlackBot, headline: str, channel: str = CHANNEL) -> list[SlackCall]:
    """Top-level posts (not thread replies) in ``channel`` whose text has ``headline``."""
    return bot.fake.calls_to(
        "chat.postMessage",
        lambda c: (
            c.params.get("channel") == channel
            and not c.params.get("thread_ts")
            and headline in c.text
        ),
    )


def thread(bot: SlackBot, message: SlackCall) -> list[SlackCall]:
    ts = message.answer["ts"]
    return bot.fake.calls_to("chat.postMessage", lambda c: c.params.get("thread_ts") == ts)


async def subscribe(bot: SlackBot, channel: str = CHANNEL) -> None:
    _, hook = await bot.command("watch", channel=channel)
    [reply] = await bot.replies(hook)
    assert "now watched" in reply.text


async def paused_run(stack: Stack) -> str:
    workflow_key = key()
    submitted = await stack.ingress.submit(PAUSING, workflow_key, {})
    await wait_for_status(stack.admin, PAUSING, workflow_key, "paused")
    return submitted.invocation_id


async def test_a_paused_workflow_alerts_then_a_click_recovers_and_both_resolve(
    bot: SlackBot, stack: Stack
) -> None:
    """Paused → alert after two checks; killed → resolved, and its failure alert's button
    recovers the key → resolved with the operator who clicked."""
    await subscribe(bot)
    watch = replica(bot, "a")
    invocation = await paused_run(stack)

    await watch.check()
    assert alerts(bot, "Paused invocations") == []
    await watch.check()
    [paused] = alerts(bot, f"Paused invocations: {PAUSING}")
    assert "1 paused invocation of" in paused.text

    # Recover a paused run the way the operator guide says: kill it (recover refuses active runs).
    await stack.admin.kill_invocation(invocation)
    await watch.check()
    await watch.check()
    resolved = thread(bot, paused)
    assert [c.text for c in resolved if "resolved after" in c.text] != []
    [failure] = alerts(bot, f"New terminal failures: {PAUSING}")
    [button] = [b for b in buttons(failure) if b["action_id"].startswith("restate.run:recover")]

    await bot.click(failure, button)
    await bot.fake.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == failure.answer["ts"] and "Verify" in c.text,
    )
    await watch.check()
    await watch.check()
    notes = [c.text for c in thread(bot, failure) if "resolved after" in c.text]
    assert len(notes) == 1
    assert f"last action: recover, by <@{OPERATOR}>" in notes[0]
    edits = bot.fake.calls_to("chat.update", lambda c: c.params.get("ts") == failure.answer["ts"])
    assert "Resolved" in edits[-1].text
    assert len(alerts(bot, "New terminal failures")) == 1


async def test_a_paused_alert_resumes_its_runs_through_the_triage_preview(
    bot: SlackBot, stack: Stack, tmp_path: Path
) -> None:
    """Retries exhausted → paused → alert with a resume button; a visitor's click is refused;
    once fixed, the operator's click previews the exact id in the thread, Run resumes it, the
    run completes and the alert resolves naming the resume and who ran it."""
    await subscribe(bot)
    watch = replica(bot, "a")
    flag = tmp_path / "fixed"
    workflow_key = key()
    submitted = await stack.ingress.submit(FIXABLE, workflow_key, {"fixedWhen": str(flag)})
    await wait_for_status(stack.admin, FIXABLE, workflow_key, "paused")

    await watch.check()
    await watch.check()
    [alert] = alerts(bot, f"Paused invocations: {FIXABLE}")
    labels = {
        b["text"]["text"]: b
        for b in buttons(alert, writes_only=False)
        if b["action_id"].startswith("restate.triage.preview:")
    }
    resume = labels[f"Resume paused invocations of {FIXABLE}"]

    _, hook = await bot.click(alert, resume, user=VISITOR)
    [denied] = await bot.replies(hook)
    flag.touch()  # the fix is deployed
    await bot.click(alert, resume)
    [preview] = await bot.fake.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == alert.answer["ts"] and "Confirm" in c.text,
    )
    [run, _cancel] = buttons(preview, writes_only=False)
    await bot.click(preview, run)
    await bot.fake.wait_for("chat.update", lambda c: "1 done, 0 skipped, 0 failed of 1" in c.text)
    row = await wait_for_status(stack.admin, FIXABLE, workflow_key, "completed")
    await watch.check()
    await watch.check()

    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in denied.text
    assert sorted(labels) == [
        f"Kill paused invocations of {FIXABLE}",
        f"Resume paused invocations of {FIXABLE}",
        "Resume them on the latest deployment",
    ]
    assert json.loads(resume["value"]) == {"service": FIXABLE, "status": ["paused"]}
    assert submitted.invocation_id in preview.text
    assert row["completion_result"] == "success"
    notes = [c.text for c in thread(bot, alert) if "resolved after" in c.text]
    assert len(notes) == 1
    assert f"last action: resume of 1 invocation, by <@{OPERATOR}>" in notes[0]
    routes = [
        (v.start.route, v.start.actor.id, v.outcome) for v in await bot.services.audit.latest(20)
    ]
    assert ("invocations-preview", VISITOR, "denied") in routes
    assert ("invocations-execute", OPERATOR, "succeeded") in routes


async def test_two_replicas_post_one_alert_and_a_dead_leader_is_replaced_without_repeat(
    bot: SlackBot, stack: Stack
) -> None:
    """Only the lease holder checks; after it dies the other takes over within one lease, and
    neither the new leader nor the old one (fenced off) posts the alert again."""
    await subscribe(bot)
    first, second = replica(bot, "a"), replica(bot, "b")
    await paused_run(stack)

    roles = [(await first.check()).leader, (await second.check()).leader]
    roles += [(await first.check()).leader, (await second.check()).leader]
    assert roles == [True, False, True, False]
    assert len(alerts(bot, "Paused invocations")) == 1

    stale = first.leadership
    assert stale is not None
    # `first` dies without releasing: `second` gets the lease once it expires (3 s here).
    async with asyncio.timeout(20):
        while not (await second.check()).leader:  # noqa: ASYNC110 - the lease expires in Redis
            await asyncio.sleep(0.05)
    await second.check()
    assert len(alerts(bot, "Paused invocations")) == 1

    store = WatchStore(bot.services.redis, prefix=bot.services.settings.watch_prefix)
    [message] = await store.messages()
    assert await store.claim(stale, message.model_copy(update={"ts": None})) is False
    assert await store.update(stale, message.model_copy(update={"count": 7})) is False
    assert (await first.check()).leader is False
    assert [m.count for m in await store.messages()] == [1]


class LeaderDied(Exception):
    """The process ended in the middle of a post, before the ts was stored."""


class DiesWhilePosting:
    """A notifier whose process 'dies' during a post: before Slack took it, or right after
    Slack answered (``reached_slack``); either way the ts is never stored."""

    def __init__(self, inner: SlackAlertNotifier, *, reached_slack: bool) -> None:
        self._inner = inner
        self._reached_slack = reached_slack

    async def post(self, channel: str, alert: AlertView, *, delivery: str) -> str:
        if self._reached_slack:
            await self._inner.post(channel, alert, delivery=delivery)
        raise LeaderDied

    async def find(
        self, channel: str, alert_key: str, delivery: str, claimed_at: datetime
    ) -> str | None:
        return await self._inner.find(channel, alert_key, delivery, claimed_at)

    async def update(self, channel: str, ts: str, alert: AlertView, *, announce: bool) -> None:
        await self._inner.update(channel, ts, alert, announce=announce)

    async def resolve(self, channel: str, ts: str, resolved: ResolvedView) -> None:
        await self._inner.resolve(channel, ts, resolved)


async def leader_dies_while_posting(bot: SlackBot, stack: Stack, *, reached_slack: bool) -> Watch:
    """Subscribe, pause a run, and let leader "a" die in its alert's post; return its successor
    (the lease ran out: its key expired)."""
    await subscribe(bot)
    client = slack_web_client("xoxb-test-token", bot.fake.api_url)
    notifier = SlackAlertNotifier(client, bot.services.pending)
    first = build_watch(
        bot.services, DiesWhilePosting(notifier, reached_slack=reached_slack), owner="a"
    )
    await paused_run(stack)
    await first.check()
    with pytest.raises(LeaderDied):
        await first.check()
    await bot.services.redis.delete(f"{bot.services.settings.watch_prefix}lease")
    return replica(bot, "b")


async def test_a_post_whose_ts_was_never_stored_is_adopted_not_repeated(
    bot: SlackBot, stack: Stack
) -> None:
    """The leader dies between Slack's answer and storing the ts: the next leader finds the
    message by the delivery id in its metadata, adopts it and edits it; nothing is posted twice."""
    second = await leader_dies_while_posting(bot, stack, reached_slack=True)
    store = WatchStore(bot.services.redis, prefix=bot.services.settings.watch_prefix)
    [claim] = await store.messages()
    [posted] = alerts(bot, "Paused invocations")

    assert (await second.check()).leader
    [adopted] = await store.messages()
    await paused_run(stack)
    await second.check()

    assert (claim.ts, claim.delivery is not None) == (None, True)
    assert posted.params["metadata"]["event_payload"] == {
        "alert": claim.alert_key,
        "delivery": claim.delivery,
    }
    assert adopted.ts == posted.answer["ts"]
    assert len(alerts(bot, "Paused invocations")) == 1
    [lookup] = bot.fake.calls_to("conversations.history")
    assert lookup.params["include_all_metadata"] in ("1", "true")
    edits = bot.fake.calls_to("chat.update", lambda c: c.params.get("ts") == adopted.ts)
    assert "2 paused invocations" in edits[-1].text


async def test_a_claim_that_never_reached_slack_is_posted_once_by_the_next_leader(
    bot: SlackBot, stack: Stack
) -> None:
    """The leader dies after claiming, before Slack took the post: the history has no message
    with its delivery id, so the next leader posts the alert, once."""
    second = await leader_dies_while_posting(bot, stack, reached_slack=False)

    await second.check()
    await second.check()

    [posted] = alerts(bot, "Paused invocations")
    store = WatchStore(bot.services.redis, prefix=bot.services.settings.watch_prefix)
    [message] = await store.messages()
    assert message.ts == posted.answer["ts"]
    assert len(bot.fake.calls_to("conversations.history")) == 1


async def test_a_stalled_leader_cannot_repoint_a_taken_over_claim(
    redis_url: str, redis_prefix: str
) -> None:
    """A late ts from a claim another leader took over (another delivery) is not recorded; the
    claim's own delivery's ts is."""
    redis: Redis = Redis.from_url(redis_url)
    try:
        store = WatchStore(redis, prefix=redis_prefix)
        lease = LeaderLease(redis, prefix=redis_prefix, owner="b", ttl_ms=10_000)
        leadership = await lease.acquire()
        assert leadership is not None
        now = datetime.now(UTC)
        claim = PostedMessage(
            alert_key="paused:Svc",
            channel=CHANNEL,
            fence="a|1",
            rule="paused",
            target="Svc",
            count=1,
            summary="1 paused invocation of Svc",
            opened_at=now,
            offered_at=now,
            noted_count=1,
            noted_at=now,
            delivery="dlv_b",
            claimed_at=now,
        )
        assert await store.claim(leadership, claim)

        late = await store.posted(claim.model_copy(update={"ts": "1.1", "delivery": "dlv_a"}))
        own = await store.posted(claim.model_copy(update={"ts": "1.2"}))

        assert (late, own) == (False, True)
        assert [m.ts for m in await store.messages()] == ["1.2"]
    finally:
        await redis.aclose()


async def test_snooze_and_unwatch_are_honoured(bot: SlackBot, stack: Stack) -> None:
    """A snoozed rule posts nothing in that channel until the snooze ends; an unwatched channel
    gets nothing at all."""
    await subscribe(bot)
    await subscribe(bot, OTHER_CHANNEL)
    _, hook = await bot.command("snooze paused 1h")
    [reply] = await bot.replies(hook)
    assert "muted in this channel" in reply.text
    await paused_run(stack)

    watch = replica(bot, "a")
    await watch.check()
    await watch.check()
    assert (len(alerts(bot, "Paused")), len(alerts(bot, "Paused", OTHER_CHANNEL))) == (0, 1)

    _, hook = await bot.command("unwatch", channel=OTHER_CHANNEL)
    await bot.replies(hook)
    await watch.release()
    later = replica(bot, "b", now=datetime.now(UTC) + timedelta(hours=2))
    await later.check()
    assert (len(alerts(bot, "Paused")), len(alerts(bot, "Paused", OTHER_CHANNEL))) == (1, 1)


async def test_watch_again_shows_the_state_and_visitors_are_refused(
    bot: SlackBot, stack: Stack
) -> None:
    """The second ``/restate watch`` is an ephemeral status; a non-operator cannot subscribe."""
    await subscribe(bot)
    await paused_run(stack)
    watch = replica(bot, "a")
    await watch.check()
    await watch.check()

    _, hook = await bot.command("watch")
    [status] = await bot.replies(hook)
    assert status.params["response_type"] == "ephemeral"
    assert f"1 paused invocation of {PAUSING}" in status.text
    _, hook = await bot.command("watch", user="UVISITOR1", channel=OTHER_CHANNEL)
    [denied] = await bot.replies(hook)
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in denied.text
    store = WatchStore(bot.services.redis, prefix=bot.services.settings.watch_prefix)
    assert await store.channels() == [CHANNEL]
    routes = [(v.start.route, v.outcome) for v in await bot.services.audit.latest(10)]
    assert ("watch", "denied") in routes
    assert ("watch", "succeeded") in routes


async def test_an_open_alert_is_edited_not_reposted_across_changes_and_restarts(
    bot: SlackBot, stack: Stack
) -> None:
    """A new count edits the message at once and is noted in the thread at most every 5 min;
    a restarted watcher, and one whose buttons are getting old, edit the same message."""
    await subscribe(bot)
    watch = replica(bot, "a")
    await paused_run(stack)
    await watch.check()
    await watch.check()
    [message] = alerts(bot, "Paused invocations")
    ts = message.answer["ts"]

    def edits() -> list[SlackCall]:
        return bot.fake.calls_to("chat.update", lambda c: c.params.get("ts") == ts)

    await paused_run(stack)
    await watch.check()
    assert "2 paused invocations" in edits()[-1].text
    assert thread(bot, message) == []

    await watch.release()  # a restart: the next process has another replica id
    restarted = replica(bot, "a-restarted", now=datetime.now(UTC) + timedelta(minutes=6))
    await restarted.check()
    await restarted.release()
    [note] = thread(bot, message)
    assert "2 paused invocations of PausingWorkflow (was 1)" in note.text
    assert len(alerts(bot, "Paused invocations")) == 1

    edited = len(edits())
    later = replica(bot, "a-later", now=datetime.now(UTC) + timedelta(minutes=14))
    await later.check()
    assert len(edits()) == edited + 1  # buttons re-offered: pending actions expire
    assert (len(alerts(bot, "Paused invocations")), len(thread(bot, message))) == (1, 1)
