"""The two-person rule for cleanup with forceDrain against a real Restate and a real Redis.

A fresh server per test holds two deployments of the sample service: ``old`` with a hanging run
pinned to it (draining, so only forceDrain deletes it) and ``keep``, the live one. The requester
is refused on every surface, a second operator's approval runs the cleanup, an approval expires,
and forceDrain false still runs at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bot.devstack import RestateServer, WorkflowIngress, WorkflowService, free_port
from bot.services import build_services
from bot.settings import Settings, load_settings
from core.audit import AttemptView
from core.audit.store import audit_redis_client
from core.errors import PendingActionUnavailable, SelfApprovalRefused
from core.pending import PendingAction, PendingActions
from core.restate.client import RestateAdminClient
from tests.integration.conftest import StartRestate, StartWorkflowService
from tests.integration.slack_harness import (
    GROUP_MEMBER,
    OPERATOR,
    buttons,
    in_channel,
    running_bot,
    thread,
)
from tests.integration.test_cli import Cli, cli_env
from tests.integration.test_http_routes import running_server
from tests.integration.test_recovery_live import (
    RECOVERY,
    deployment_ids_eventually,
    wait_until_pinned,
)

pytestmark = pytest.mark.integration

PATH = "/api/v2/admin/operator/restate"
KEYS = {"alice": "alice-key-0123456789abcdef", "bob": "bob-key-0123456789abcdef01"}
ROUTE = "cleanup-stale-deployments"


@dataclass(frozen=True)
class Fleet:
    server: RestateServer
    keep: WorkflowService
    old_id: str
    keep_id: str

    async def deployments(self) -> set[str]:
        async with RestateAdminClient(self.server.admin_url) as admin:
            return {d.id for d in await admin.list_deployments()}


@pytest.fixture
async def fleet(fresh_restate: StartRestate, start_workflow_service: StartWorkflowService) -> Fleet:
    """``old`` pins a hanging run (draining); ``keep`` is registered after it (the live one)."""
    server = await fresh_restate()
    old, keep = await start_workflow_service(), await start_workflow_service()
    async with (
        RestateAdminClient(server.admin_url) as admin,
        WorkflowIngress(server.ingress_url) as ingress,
    ):
        old_id = (await admin.register_deployment(old.url, force=True)).id
        await ingress.submit(RECOVERY, "busy", {"mode": "hang"})
        assert (await wait_until_pinned(admin, RECOVERY, "busy"))["pinned_deployment_id"] == old_id
        keep_id = (await admin.register_deployment(keep.url, force=True)).id
    return Fleet(server, keep, old_id, keep_id)


async def audit_views(settings: Settings, count: int = 20) -> list[AttemptView]:
    async with build_services(settings) as services:
        return await services.audit.latest(count)


# --- the store: one claim wins, the requester never consumes it, it expires -----------------


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = audit_redis_client(redis_url, timeout=2.0)
    try:
        yield client
    finally:
        await client.aclose()


def cleanup_action() -> PendingAction:
    args = {"serviceUrl": "http://ddwf:9080/", "forceDrain": True}
    return PendingAction(route=ROUTE, args=args, preview="Delete dp_old.", offered_to="alice")


async def test_a_held_write_is_approved_once_across_replicas_and_never_by_its_requester(
    redis: Redis, redis_prefix: str
) -> None:
    """Two stores on one Redis: alice's claim is refused and consumes nothing; of bob's and
    carol's claims at once exactly one wins; an ordinary offer is still first come."""
    clock = Clock()
    one, two = (PendingActions(redis, prefix=f"{redis_prefix}p:", now=clock) for _ in range(2))
    approval_id, held = await one.hold(cleanup_action(), "alice")

    with pytest.raises(SelfApprovalRefused):
        await two.claim(approval_id, by="alice")
    assert await one.peek(approval_id) == held
    results = await asyncio.gather(
        one.claim_as(approval_id, by="bob"),
        two.claim_as(approval_id, by="carol"),
        return_exceptions=True,
    )
    plain = await one.offer(cleanup_action())

    winners = [r for r in results if not isinstance(r, BaseException)]
    assert sorted(type(r).__name__ for r in results) == ["Claimed", "PendingActionUnavailable"]
    assert [w.approved_by for w in winners] in (["bob"], ["carol"])
    assert winners[0].action.requested_by == "alice"
    assert held.expires_at == clock.moment + timedelta(minutes=15)
    assert (await two.claim_as(plain, by="alice")).approved_by is None


async def test_an_approval_expires_with_a_clear_answer(redis: Redis, redis_prefix: str) -> None:
    """At its expiry the held write is refused as expired (not unknown), then gone."""
    clock = Clock()
    store = PendingActions(redis, prefix=f"{redis_prefix}p:", ttl=timedelta(minutes=10), now=clock)
    approval_id, held = await store.hold(cleanup_action(), "alice")
    clock.moment += timedelta(minutes=10)

    with pytest.raises(PendingActionUnavailable) as expired:
        await store.claim(approval_id, by="bob")
    with pytest.raises(PendingActionUnavailable) as after:
        await store.claim(approval_id, by="bob")

    assert expired.value.data == {
        "state": "expired",
        "approvalId": approval_id,
        "expiresAt": "2026-05-09T10:10:00.000Z",
    }
    assert "expired at 2026-05-09T10:10:00.000Z" in expired.value.message
    assert held.expires_at == datetime(2026, 5, 9, 10, 10, tzinfo=UTC)
    assert after.value.data == {}


# --- HTTP: two API keys ------------------------------------------------------------------------


def http_settings(fleet: Fleet, redis_url: str, redis_prefix: str, **extra: Any) -> Settings:
    return load_settings(
        restate_admin_url=fleet.server.admin_url,
        restate_ingress_url=fleet.server.ingress_url,
        redis_url=redis_url,
        audit_stream=f"{redis_prefix}audit",
        operator_api_keys=",".join(f"{name}={key}" for name, key in KEYS.items()),
        slack_bot_token=None,
        watch_interval_s=0,
        host="127.0.0.1",
        port=free_port(),
        **extra,
    )


async def test_http_force_drain_waits_for_a_second_key_then_runs(
    fleet: Fleet, redis_url: str, redis_prefix: str
) -> None:
    """forceDrain: 202 APPROVAL_REQUIRED; alice's approval 403; bob's runs the cleanup once."""
    settings = http_settings(fleet, redis_url, redis_prefix)
    body = {"serviceUrl": fleet.keep.url, "forceDrain": True}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http,
    ):
        plain = await http.post(
            f"{PATH}/{ROUTE}", json={"serviceUrl": fleet.keep.url}, headers=key("alice")
        )
        held = await http.post(f"{PATH}/{ROUTE}", json=body, headers=key("alice"))
        approval_id = held.json()["data"]["approvalId"]
        approve = f"{PATH}/approvals/{approval_id}/approve"
        own = await http.post(approve, headers=key("alice"))
        untouched = await fleet.deployments()
        ran = await http.post(approve, headers=key("bob"))
        again = await http.post(approve, headers=key("bob"))

    assert plain.status_code == 200  # forceDrain false: today's flow, the busy one skipped
    assert {i["id"]: i["action"] for i in plain.json()["report"]} == {
        fleet.keep_id: "kept",
        fleet.old_id: "skipped",
    }
    assert held.status_code == 202
    assert set(held.json()) == {"code", "message", "data", "requestId"}
    assert held.json()["code"] == "APPROVAL_REQUIRED"
    assert held.json()["requestId"] == held.headers["X-Request-Id"]
    assert re.fullmatch(r"apr_[0-9a-f]{32}", approval_id)
    assert held.json()["data"]["expiresAt"].endswith("Z")
    assert (own.status_code, own.json()["code"]) == (403, "SELF_APPROVAL_REFUSED")
    assert untouched == {fleet.keep_id, fleet.old_id}
    assert ran.status_code == 200, ran.text
    assert {i["id"]: (i["action"], i["reason"]) for i in ran.json()["report"]} == {
        fleet.keep_id: ("kept", "matches-service-url"),
        fleet.old_id: ("deleted", "force-drain"),
    }
    assert (again.status_code, again.json()["code"]) == (410, "PENDING_ACTION_UNAVAILABLE")
    async with RestateAdminClient(fleet.server.admin_url) as admin:
        assert await deployment_ids_eventually(admin, {fleet.keep_id}) == {fleet.keep_id}
    views = {v.start.request_id: v for v in await audit_views(settings)}
    request_view = views[held.json()["requestId"]]
    own_view = views[own.json()["requestId"]]
    ran_view = views[ran.headers["X-Request-Id"]]
    assert (request_view.start.actor.id, request_view.outcome) == ("alice", "blocked")
    assert (own_view.start.actor.id, own_view.start.route, own_view.outcome) == (
        "alice",
        ROUTE,
        "denied",
    )
    assert (ran_view.start.actor.id, ran_view.start.route, ran_view.outcome) == (
        "bob",
        ROUTE,
        "succeeded",
    )
    assert ran_view.start.args == body
    assert (ran_view.start.context["requestedBy"], ran_view.start.context["approvedBy"]) == (
        "alice",
        "bob",
    )


async def test_http_force_drain_runs_at_once_with_the_rule_off(
    fleet: Fleet, redis_url: str, redis_prefix: str
) -> None:
    """TWO_PERSON_FORCE_DRAIN=false: the forceDrain cleanup answers 200 and deletes at once."""
    settings = http_settings(fleet, redis_url, redis_prefix, two_person_force_drain=False)
    body = {"serviceUrl": fleet.keep.url, "forceDrain": True}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http,
    ):
        ran = await http.post(f"{PATH}/{ROUTE}", json=body, headers=key("alice"))

    assert ran.status_code == 200, ran.text
    assert {i["id"]: i["action"] for i in ran.json()["report"]}[fleet.old_id] == "deleted"


def key(name: str) -> dict[str, str]:
    return {"X-Api-Key": KEYS[name]}


# --- Slack: signed clicks from two operators ------------------------------------------------------


async def test_slack_force_drain_is_refused_to_its_requester_and_run_by_a_second_operator(
    fleet: Fleet, redis_url: str, redis_prefix: str
) -> None:
    """The preview offers "Approve"; olivia's own click is refused privately (audited); gus's
    click approves and runs it, with the outcome and the verify readout in the thread."""
    async with running_bot(
        admin_url=fleet.server.admin_url,
        ingress_url=fleet.server.ingress_url,
        redis_url=redis_url,
        prefix=redis_prefix,
        service_url=fleet.keep.url,
    ) as bot:
        await bot.command(f"cleanup {fleet.keep.url} force-drain", user=OPERATOR)
        [posted] = await bot.fake.wait_for("chat.postMessage", in_channel)
        [button] = buttons(posted)

        _, hook = await bot.click(posted, button, user=OPERATOR)
        [refusal] = await bot.replies(hook)
        await bot.settled()
        [denied] = await bot.services.audit.latest(1)
        untouched = await fleet.deployments()
        await bot.click(posted, button, user=GROUP_MEMBER)
        lock, final = await bot.fake.wait_for("chat.update", count=2)
        await bot.settled()
        outcome, verify = thread(bot, posted)
        ran_view = next(
            v
            for v in await bot.services.audit.latest(10)
            if v.start.phase == "execute"
            and v.start.actor.id == GROUP_MEMBER
            and v.start.route == ROUTE
        )

    assert button["text"]["text"] == "Approve"
    assert "second operator must approve" in button["confirm"]["text"]["text"]
    assert refusal.params["response_type"] == "ephemeral"
    assert "SELF_APPROVAL_REFUSED" in refusal.text
    assert (denied.start.actor.id, denied.start.route, denied.outcome) == (
        OPERATOR,
        ROUTE,
        "denied",
    )
    assert untouched == {fleet.keep_id, fleet.old_id}
    assert f"<@{GROUP_MEMBER}>" in lock.text
    assert f"<@{GROUP_MEMBER}>" in final.text
    assert fleet.old_id in outcome.text
    assert "Verify after" in verify.text
    assert ran_view.outcome == "succeeded"
    assert (ran_view.start.context["requestedBy"], ran_view.start.context["approvedBy"]) == (
        OPERATOR,
        GROUP_MEMBER,
    )
    async with RestateAdminClient(fleet.server.admin_url) as admin:
        assert await deployment_ids_eventually(admin, {fleet.keep_id}) == {fleet.keep_id}


# --- CLI: another OS user approves --------------------------------------------------------------


async def test_cli_force_drain_prints_the_approval_and_another_os_user_runs_it(
    fleet: Fleet, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """cleanup --force-drain prints the approval id; the same user's approve exits 6; another
    OS user's approve runs it."""
    env = cli_env(
        fleet.server.admin_url, fleet.server.ingress_url, redis_url, f"{redis_prefix}audit"
    )
    cli = Cli({**env, "USER": "alice", "LOGNAME": "alice"}, tmp_path)

    held = await cli("cleanup", fleet.keep.url, "--force-drain", "--yes")
    found = re.search(r"approval id: (apr_[0-9a-f]{32})", held.err)
    assert found is not None, held.err
    own = await cli("approve", found.group(1), "--yes", "--json")
    untouched = await fleet.deployments()
    ran = await cli.with_env(USER="bob", LOGNAME="bob")(
        "approve", found.group(1), "--yes", "--json"
    )

    assert held.code == 0, held.err
    assert f"restate-ops approve {found.group(1)}" in held.err
    assert (own.code, own.json()["code"]) == (6, "SELF_APPROVAL_REFUSED")
    assert untouched == {fleet.keep_id, fleet.old_id}
    assert ran.code == 0, ran.err
    assert {i["id"]: i["action"] for i in ran.json()["report"]}[fleet.old_id] == "deleted"
