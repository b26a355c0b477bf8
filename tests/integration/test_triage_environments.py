"""Triage with two environments on two real Restate servers: Slack, HTTP and the CLI.

``prod`` is the session's server (the incident channel is bound to it), ``staging`` the second
one and the default. Both hold paused runs under the same keys, so a selection that leaked from
one server to the other would show in the counts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.exits import ExitCode
from bot.devstack import WorkflowIngress
from bot.http import build_http_app
from bot.services import Services, build_services
from bot.settings import load_settings
from core.restate.client import RestateAdminClient
from tests.integration.conftest import RestateStack, StartBot, WriteTwoEnvironments
from tests.integration.slack_harness import (
    CHANNEL,
    GROUP_MEMBER,
    ONCALL_GROUP,
    OPERATOR,
    VISITOR,
    SlackBot,
    buttons,
)
from tests.integration.test_cli import Cli, cli_env
from tests.integration.test_triage_live import FIXABLE, discard, until_count
from tests.slack_fake import SlackCall, Where

pytestmark = pytest.mark.integration

PATH = "/api/v2/admin/operator/restate/invocations"
ALICE_KEY = "alice-prod-key-0123456789abcdef"
STELLA_KEY = "stella-staging-key-0123456789abcdef"
PAUSED = "status = 'paused'"


@dataclass
class Servers:
    """The two environments' admin clients, the paused runs' key prefix and the config file."""

    prod: RestateAdminClient
    staging: RestateAdminClient
    prefix: str
    config: Path


@pytest.fixture
async def servers(
    two_environments: WriteTwoEnvironments,
    restate_stack: RestateStack,
    second_restate_stack: RestateStack,
    tmp_path: Path,
) -> AsyncIterator[Servers]:
    """Two paused runs on prod, one on staging, under the same keys; discarded afterwards."""
    config = two_environments(
        prod={
            "operator_allowlist": [OPERATOR, ONCALL_GROUP],
            "operator_api_keys": f"alice={ALICE_KEY}",
            "channels": [CHANNEL],
        },
        staging={
            "operator_allowlist": [OPERATOR, VISITOR],
            "operator_api_keys": f"stella={STELLA_KEY}",
        },
    )
    prefix = f"e{uuid.uuid4().hex[:8]}-"
    flag = str(tmp_path / "fixed")
    async with (
        RestateAdminClient(restate_stack.admin_url) as prod,
        RestateAdminClient(second_restate_stack.admin_url) as staging,
    ):
        try:
            for stack, runs in ((restate_stack, 2), (second_restate_stack, 1)):
                async with WorkflowIngress(stack.ingress_url) as ingress:
                    for i in range(runs):
                        await ingress.submit(FIXABLE, f"{prefix}{i}", {"fixedWhen": flag})
            assert await until_count(prod, prefix, PAUSED, 2) == 2
            assert await until_count(staging, prefix, PAUSED, 1) == 1
            yield Servers(prod, staging, prefix, config)
        finally:
            await discard(prod, prefix)
            await discard(staging, prefix)


@pytest.fixture
async def bot(servers: Servers, start_bot: StartBot) -> AsyncIterator[SlackBot]:
    async with start_bot(service_url=None, restate_ops_config=str(servers.config)) as running:
        yield running


def _in_thread(ts: Any) -> Where:
    return lambda call: call.params.get("thread_ts") == ts


def _with_button(message: SlackCall, button: dict[str, Any]) -> SlackCall:
    """``message`` as a forger would send it back: its actions block holds ``button`` only."""
    blocks = [
        {**b, "elements": [button]} if b.get("type") == "actions" else b for b in message.blocks
    ]
    return replace(message, params={**message.params, "blocks": blocks})


async def test_a_staging_selection_lists_and_acts_on_staging_only(
    bot: SlackBot, servers: Servers
) -> None:
    """env=staging in prod's channel: staging's one run is listed, previewed and killed there."""
    await bot.command(f"invocations env=staging paused key-prefix={servers.prefix}")
    [readout] = await bot.fake.wait_for("chat.postMessage")
    kill = next(
        b for b in buttons(readout, writes_only=False) if b["text"]["text"] == "staging · Kill (1)"
    )
    await bot.click(readout, kill, user=VISITOR)
    [preview] = await bot.fake.wait_for("chat.postMessage", _in_thread(readout.answer["ts"]))
    [approve, _] = buttons(preview, writes_only=False)
    await bot.click(preview, approve, user=OPERATOR)
    [final] = await bot.fake.wait_for("chat.update", lambda c: "Per-item report" in c.text)

    assert readout.blocks[0]["text"]["text"].startswith("staging · 🔎 1 invocation(s)")
    assert (kill["text"]["text"], kill["value"][:9]) == ("staging · Kill (1)", "staging:{")
    assert preview.blocks[0]["text"]["text"].startswith("staging · 🛠 Confirm: Kill 1")
    assert approve["value"].startswith("staging:bulk_")
    assert approve["confirm"]["title"]["text"] == "staging · Kill 1 invocation(s)?"
    assert final.text.startswith("staging · ✅ Kill: 1 done")
    assert await until_count(servers.staging, servers.prefix, PAUSED, 0) == 0
    assert await until_count(servers.prod, servers.prefix, PAUSED, 2) == 2
    audited = {(v.start.route, v.start.environment) for v in await bot.services.audit.latest(20)}
    assert ("invocations-execute", "staging") in audited


async def test_env_inside_a_quoted_filter_value_does_not_switch_environment(
    bot: SlackBot, servers: Servers
) -> None:
    """In prod's channel, ``error="… env=staging"`` is a filter value: prod is read, not staging."""
    await bot.command(f'invocations paused key-prefix={servers.prefix} error="not env=staging"')
    [readout] = await bot.fake.wait_for("chat.postMessage")

    header = readout.blocks[0]["text"]["text"]
    assert header.startswith("🔴 PROD · 🔎 0 invocation(s)"), header
    audited = {(v.start.route, v.start.environment) for v in await bot.services.audit.latest(5)}
    assert ("invocations-query", "prod") in audited
    assert ("invocations-query", "staging") not in audited


async def test_a_prod_button_acts_on_prod_for_prod_operators_only(
    bot: SlackBot, servers: Servers
) -> None:
    """The channel's prod readout: a staging-only operator is refused, a forged environment
    finds no action, and a second prod operator's approval runs it on prod alone."""
    await bot.command(f"invocations paused key-prefix={servers.prefix}")
    [readout] = await bot.fake.wait_for("chat.postMessage")
    kill = next(
        b for b in buttons(readout, writes_only=False) if b["text"]["text"] == "🔴 PROD · Kill (2)"
    )
    _, outsider = await bot.click(readout, kill, user=VISITOR)
    [denied] = await bot.replies(outsider)
    await bot.click(readout, kill, user=OPERATOR)
    [preview] = await bot.fake.wait_for("chat.postMessage", _in_thread(readout.answer["ts"]))
    [approve, _] = buttons(preview, writes_only=False)
    forged = {**approve, "value": approve["value"].replace("prod:", "staging:", 1)}
    _, forging = await bot.click(_with_button(preview, forged), forged, user=OPERATOR)
    [unavailable] = await bot.replies(forging)
    _, staging_only = await bot.click(preview, approve, user=VISITOR)
    [not_prod] = await bot.replies(staging_only)
    await bot.click(preview, approve, user=GROUP_MEMBER)
    [final] = await bot.fake.wait_for("chat.update", lambda c: "Per-item report" in c.text)

    assert readout.blocks[0]["text"]["text"].startswith("🔴 PROD · 🔎 2 invocation(s)")
    assert kill["text"]["text"] == "🔴 PROD · Kill (2)"
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in denied.text
    assert "🔴 PROD" in denied.text
    assert approve["confirm"]["title"]["text"] == "🔴 PROD · Kill 2 invocation(s)?"
    assert approve["value"].startswith("prod:bulk_")
    assert "PENDING_ACTION_UNAVAILABLE" in unavailable.text
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in not_prod.text
    assert final.text.startswith("🔴 PROD · ✅ Kill: 2 done")
    assert f"approved by <@{GROUP_MEMBER}>" in final.text
    assert await until_count(servers.prod, servers.prefix, PAUSED, 0) == 0
    assert await until_count(servers.staging, servers.prefix, PAUSED, 1) == 1


@dataclass
class Api:
    http: httpx.AsyncClient
    services: Services

    async def query(self, key: str, env: str | None, flt: dict[str, Any]) -> httpx.Response:
        headers = {"X-Api-Key": key, **({"X-Restate-Environment": env} if env else {})}
        return await self.http.post(f"{PATH}/query", json=flt, headers=headers)


@pytest.fixture
async def api(
    servers: Servers, restate_stack: RestateStack, redis_url: str, redis_prefix: str
) -> AsyncIterator[Api]:
    settings = load_settings(
        restate_admin_url=restate_stack.admin_url,
        redis_url=redis_url,
        audit_stream=f"{redis_prefix}audit",
        slack_bot_token=None,
        restate_ops_config=str(servers.config),
    )
    async with build_services(settings) as services:
        transport = httpx.ASGITransport(app=build_http_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            yield Api(http, services)


async def test_the_header_routes_triage_to_its_environment_and_its_keyring(
    api: Api, servers: Servers
) -> None:
    """No header: the default (staging); prod by header with a prod key; keys do not cross;
    an unknown environment is 422 on the header, audited; an action id lives in one env only."""
    flt = {"keyPrefix": servers.prefix, "status": ["paused"]}

    default = await api.query(STELLA_KEY, None, flt)
    prod = await api.query(ALICE_KEY, "prod", flt)
    staging_key_on_prod = await api.query(STELLA_KEY, "prod", flt)
    unknown = await api.query(ALICE_KEY, "qa", flt)
    preview = await api.http.post(
        f"{PATH}/actions",
        json={"action": "kill", "filter": flt},
        headers={"X-Api-Key": ALICE_KEY, "X-Restate-Environment": "prod"},
    )
    elsewhere = await api.http.get(
        f"{PATH}/actions/{preview.json()['actionId']}", headers={"X-Api-Key": STELLA_KEY}
    )

    assert (default.status_code, default.json()["total"]) == (200, 1)
    assert default.headers["X-Restate-Environment"] == "staging"
    assert (prod.status_code, prod.json()["total"]) == (200, 2)
    assert prod.headers["X-Restate-Environment"] == "prod"
    assert (staging_key_on_prod.status_code, staging_key_on_prod.json()["code"]) == (
        401,
        "UNAUTHENTICATED",
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "INVALID_INPUT")
    assert unknown.json()["data"]["field"] == "X-Restate-Environment"
    assert preview.status_code == 200
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (410, "PENDING_ACTION_UNAVAILABLE")
    audited = [v.start for v in await api.services.audit.latest(20)]
    assert [(s.actor.id, s.environment) for s in audited if s.args.get("environment") == "qa"] == [
        ("alice", None)
    ]
    assert ("alice", "prod") in {
        (s.actor.id, s.environment) for s in audited if s.route == "invocations-query"
    }
    assert await until_count(servers.prod, servers.prefix, PAUSED, 2) == 2


async def test_the_cli_takes_env_and_restate_ops_env(
    servers: Servers, restate_stack: RestateStack, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """--env (on the command or before it) picks the environment, RESTATE_OPS_ENV too; an
    unknown one is bad input."""
    env = cli_env(
        restate_stack.admin_url, restate_stack.ingress_url, redis_url, f"{redis_prefix}audit"
    )
    cli = Cli({**env, "RESTATE_OPS_CONFIG": str(servers.config)}, tmp_path)
    selection = ("--key-prefix", servers.prefix, "--status", "paused", "--json")

    default = await cli("invocations", "query", *selection)
    prod = await cli("invocations", "query", *selection, "--env", "prod")
    from_variable = await cli.with_env(RESTATE_OPS_ENV="prod")("invocations", "query", *selection)
    global_option = await cli("--env", "prod", "invocations", "query", *selection)
    unknown = await cli("invocations", "query", *selection, "--env", "qa")

    assert (default.code, default.json()["total"]) == (ExitCode.OK, 1), default.err
    assert (prod.code, prod.json()["total"]) == (ExitCode.OK, 2), prod.err
    assert (default.json()["environment"], prod.json()["environment"]) == ("staging", "prod")
    assert (from_variable.code, from_variable.json()["total"]) == (ExitCode.OK, 2)
    assert (global_option.code, global_option.json()["total"]) == (ExitCode.OK, 2)
    assert unknown.code == ExitCode.BAD_INPUT
    assert unknown.json()["data"] == {"field": "--env", "rule": "must be one of prod, staging"}
