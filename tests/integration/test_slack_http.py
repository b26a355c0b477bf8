"""Slack's HTTP mode end to end: signatures, help, usage errors, the audit command, fallback.

Every request goes through the real ``POST /slack/events`` of ``bot.http`` with a signature made
the way Slack makes it; the Slack Web API is a local fake that records each call.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.devstack import free_port
from tests.integration.slack_harness import (
    CHANNEL,
    GROUP_MEMBER,
    VISITOR,
    SlackBot,
    buttons,
    in_channel,
    running_bot,
)

pytestmark = pytest.mark.integration


async def test_bad_signature_is_rejected(bot: SlackBot) -> None:
    """A request signed with another secret gets 401 and reaches no listener."""
    response, _ = await bot.command("doctor", secret="not-the-signing-secret")

    assert response.status_code == 401
    assert bot.fake.calls == []


async def test_old_timestamp_is_rejected(bot: SlackBot) -> None:
    """A correctly signed request older than five minutes gets 401 (replay protection)."""
    response, _ = await bot.command("doctor", timestamp=int(time.time()) - 6 * 60)

    assert response.status_code == 401
    assert bot.fake.calls == []


async def test_help_replies_ephemerally_with_usage(bot: SlackBot) -> None:
    """``/restate help`` answers only the caller, listing every subcommand."""
    response, hook = await bot.command("help", user=VISITOR)

    assert response.status_code == 200
    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    for word in ("doctor", "redeploy", "cleanup [<serviceUrl>", "recover [<serviceName>", "audit"):
        assert word in reply.text


async def test_unknown_command_says_what_was_wrong(bot: SlackBot) -> None:
    """An unknown subcommand gets an ephemeral reply naming it, with the full usage."""
    _, hook = await bot.command("frobnicate now")

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert "Unknown command 'frobnicate'" in reply.text
    assert "/restate recover [<serviceName> <serviceKey>" in reply.text


async def test_malformed_value_shows_the_rule_and_usage(bot: SlackBot) -> None:
    """A workflow key the route would refuse is answered with the rule and the usage."""
    _, hook = await bot.command("recover IdentityRecoveryWorkflow bad/key")

    [reply] = await bot.replies(hook)
    assert "INVALID_INPUT" in reply.text
    assert "serviceKey" in reply.text
    assert "/restate recover [<serviceName> <serviceKey>" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []


async def test_visitor_doctor_is_denied_and_audited(bot: SlackBot) -> None:
    """A user outside the allowlist gets OFFCHAIN_USER_PERMISSION_REQUIRED, and it is audited."""
    _, hook = await bot.command("doctor", user=VISITOR)

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []
    [view] = await bot.services.audit.latest(1)
    assert (
        view.start.actor.id,
        view.outcome,
        view.start.context["channel"],
    ) == (VISITOR, "denied", CHANNEL)


async def test_group_member_is_an_operator(bot: SlackBot) -> None:
    """A member of an allowlisted user group may run doctor (usergroups.users.list)."""
    await bot.command("doctor", user=GROUP_MEMBER)

    [posted] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert posted.params["channel"] == CHANNEL
    assert bot.fake.calls_to("usergroups.users.list")


async def test_failed_group_lookup_denies(bot: SlackBot) -> None:
    """When usergroups.users.list fails, a group member is denied rather than let through."""
    bot.fake.usergroups_error = "plan_upgrade_required"

    _, hook = await bot.command("doctor", user=GROUP_MEMBER)

    [reply] = await bot.replies(hook)
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []


async def test_audit_lists_latest_attempts_for_operators(bot: SlackBot) -> None:
    """``/restate audit`` shows an operator the latest attempts, including a denied one."""
    _, denied_hook = await bot.command("doctor", user=VISITOR)
    await bot.replies(denied_hook)

    _, hook = await bot.command("audit 5")

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert VISITOR in reply.text
    assert "denied OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text


async def test_audit_is_for_operators_only(bot: SlackBot) -> None:
    """A visitor asking for the audit log is refused."""
    _, hook = await bot.command("audit", user=VISITOR)

    [reply] = await bot.replies(hook)
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text


async def test_not_in_channel_falls_back_to_response_url(bot: SlackBot) -> None:
    """When the bot is not in the channel, doctor still lands in it and says how to invite it."""
    bot.fake.not_in_channel.add(CHANNEL)

    _, hook = await bot.command("doctor")

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "in_channel"
    assert "Restate doctor" in reply.text
    assert "/invite" in reply.text


@pytest.fixture
async def bot_without_restate(redis_url: str, redis_prefix: str) -> AsyncIterator[SlackBot]:
    closed = f"http://127.0.0.1:{free_port()}"
    async with running_bot(
        admin_url=closed,
        ingress_url=closed,
        redis_url=redis_url,
        prefix=redis_prefix,
        service_url="http://127.0.0.1:9/live",
    ) as running:
        yield running


async def test_restate_down_offers_no_write(bot_without_restate: SlackBot) -> None:
    """With the admin API unreachable, doctor says to fix connectivity first and has no button."""
    bot = bot_without_restate
    await bot.command("doctor")

    [posted] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert "Fix connectivity first" in posted.text
    assert "🔴" in posted.text
    assert buttons(posted) == []


async def test_visitor_text_write_is_denied_and_audited(bot: SlackBot) -> None:
    """A typed recover by a visitor is refused before any preview and audited with its args."""
    _, hook = await bot.command("recover InvitationWorkflow k123 because", user=VISITOR)

    [reply] = await bot.replies(hook)
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []
    [view] = await bot.services.audit.latest(1)
    assert (view.start.route, view.start.args, view.outcome) == (
        "recover-stuck-workflow",
        {"serviceName": "InvitationWorkflow", "serviceKey": "k123"},
        "denied",
    )


async def test_cleanup_of_an_unknown_url_is_refused(bot: SlackBot) -> None:
    """A typed cleanup keeping an unregistered URL gets RESTATE_DEPLOYMENT_NOT_FOUND, no button."""
    _, hook = await bot.command("cleanup http://nowhere.invalid:9080/v1")

    [reply] = await bot.replies(hook)
    assert "RESTATE_DEPLOYMENT_NOT_FOUND" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("text", ["redeploy http://ddwf:9080/v1", "recover InvitationWorkflow k1"])
async def test_typed_write_with_restate_down_offers_no_button(
    bot_without_restate: SlackBot, text: str
) -> None:
    """A preview cannot check anything with the admin API down: it says so, with no button."""
    bot = bot_without_restate
    _, hook = await bot.command(text)

    [reply] = await bot.replies(hook)
    assert "RESTATE_ADMIN_UNREACHABLE" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []
