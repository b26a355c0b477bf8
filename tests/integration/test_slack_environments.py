"""Slack with two real Restate environments: each command acts on one, and every button on its own.

``prod`` (production, the session's Restate server, bound to ``PROD_CHANNEL``) and ``staging``
(the second server, the default) come from an environments file. The operator is on both
allowlists; ``STAGER`` is a staging operator only. Commands are signed requests to the bot's
real HTTP endpoint, clicks are built from the messages the bot really posted.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.audit import AttemptView
from core.restate.client import RestateAdminClient
from core.restate.sql import literal
from handlers.blocks.modals import CHOICE_ACTION, CHOICE_BLOCK
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartBot,
    WriteTwoEnvironments,
)
from tests.integration.slack_harness import (
    CHANNEL,
    OPERATOR,
    WORKFLOW,
    SlackBot,
    buttons,
    failed_run,
    in_channel,
    thread,
)
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration

STAGER = "USTAGER1"
PROD_CHANNEL = "CPRODINC1"


@pytest.fixture
async def bot(
    two_environments: WriteTwoEnvironments,
    start_bot: StartBot,
    workflow_service: RegisteredWorkflowService,
    second_workflow_service: RegisteredWorkflowService,
) -> AsyncIterator[SlackBot]:
    config = two_environments(
        prod={
            "service_url": workflow_service.url,
            "operator_allowlist": [OPERATOR],
            "channels": [PROD_CHANNEL],
        },
        staging={
            "service_url": second_workflow_service.url,
            "operator_allowlist": [OPERATOR, STAGER],
        },
    )
    async with start_bot(service_url=None, restate_ops_config=str(config)) as running:
        yield running


@pytest.fixture
def key() -> str:
    return f"k{uuid.uuid4().hex[:10]}"


async def readout(bot: SlackBot, text: str, **options: Any) -> SlackCall:
    """Send ``/restate text`` and return the message it posts in the channel."""
    before = len(bot.fake.calls_to("chat.postMessage", in_channel))
    await bot.command(text, **options)
    posted = await bot.fake.wait_for("chat.postMessage", in_channel, count=before + 1)
    return posted[-1]


def recover_button(message: SlackCall, key: str) -> dict[str, Any]:
    return next(b for b in buttons(message) if f"/{key}" in b["confirm"]["text"]["text"])


def header(message: SlackCall) -> str:
    return str(message.blocks[0]["text"]["text"])


async def latest(bot: SlackBot, count: int = 20) -> list[AttemptView]:
    return await bot.services.audit.latest(count)


async def still_failed(stack: RestateStack, key: str) -> bool:
    """Whether ``key``'s failed run is still on ``stack``'s server (not purged)."""
    async with RestateAdminClient(stack.admin_url) as admin:
        rows = await admin.query(
            "SELECT id FROM sys_invocation "  # noqa: S608 - every value goes through literal()
            f"WHERE target_service_name = {literal(WORKFLOW)} "
            f"AND target_service_key = {literal(key)}"
        )
    return bool(rows)


async def test_doctor_reads_and_names_the_environment_it_is_given(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """``doctor prod`` reads prod's server and says PROD; ``env=staging`` reads staging's."""
    await failed_run(restate_stack, key)

    prod = await readout(bot, "doctor prod")
    staging = await readout(bot, "doctor env=staging")

    assert header(prod).startswith("🔴 PROD · ")
    assert header(staging).startswith("staging · ")
    assert recover_button(prod, key)["value"].startswith("prod:")
    assert key not in json.dumps(staging.blocks)
    doctors = [v.start.environment for v in await latest(bot) if v.start.route == "doctor"]
    assert set(doctors[:2]) == {"prod", "staging"}


async def test_the_channel_binding_picks_the_environment(bot: SlackBot) -> None:
    """Without a name, the prod incident channel reads prod; any other channel the default."""
    bound = await readout(bot, "doctor", channel=PROD_CHANNEL)
    other = await readout(bot, "doctor", channel=CHANNEL)

    assert header(bound).startswith("🔴 PROD · ")
    assert header(other).startswith("staging · ")


async def test_doctor_all_has_one_line_per_environment_each_audited_there(bot: SlackBot) -> None:
    """``doctor all`` probes both, one audited doctor per environment under its name; a staging
    operator's prod line is the refusal, audited as denied on prod."""
    both = await readout(bot, "doctor all")
    mixed = await readout(bot, "doctor all", user=STAGER)

    lines = both.text.splitlines()
    assert lines[1].startswith("🔴 PROD · ")
    assert lines[2].startswith("staging · ")
    assert "all clear" in lines[2] or "needs attention" in lines[2]
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in mixed.text.splitlines()[1]
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" not in mixed.text.splitlines()[2]
    stager = {
        v.start.environment: v.outcome for v in await latest(bot) if v.start.actor.id == STAGER
    }
    assert stager == {"prod": "denied", "staging": "succeeded"}


async def test_an_unknown_environment_is_refused_naming_the_valid_ones(bot: SlackBot) -> None:
    """``doctor qa`` changes nothing and says which environments exist."""
    _, hook = await bot.command("doctor qa")

    [reply] = await bot.replies(hook)
    assert reply.params["response_type"] == "ephemeral"
    assert "Unknown environment 'qa'" in reply.text
    assert "prod, staging" in reply.text
    assert bot.fake.calls_to("chat.postMessage") == []


async def test_a_prod_button_acts_on_prod_only_and_verifies_there(
    bot: SlackBot, restate_stack: RestateStack, second_restate_stack: RestateStack, key: str
) -> None:
    """The same key failed on both servers: prod's button recovers prod's, staging's stays."""
    await failed_run(restate_stack, key)
    await failed_run(second_restate_stack, key)
    posted = await readout(bot, "doctor prod")
    button = recover_button(posted, key)

    assert button["confirm"]["title"]["text"].startswith("🔴 PROD · ")
    await bot.click(posted, button)
    await bot.fake.wait_for("chat.update", count=2)

    outcome, verify = thread(bot, posted)
    assert outcome.text.startswith("🔴 PROD · ✅")
    assert verify.text.startswith("🔴 PROD · Verify after")
    assert not await still_failed(restate_stack, key)
    assert await still_failed(second_restate_stack, key)
    [executed] = [v for v in await latest(bot) if v.start.route == "recover-stuck-workflow"]
    assert (executed.start.environment, executed.outcome) == ("prod", "succeeded")


async def test_an_altered_button_value_finds_nothing(
    bot: SlackBot, restate_stack: RestateStack, second_restate_stack: RestateStack, key: str
) -> None:
    """A prod button whose value is edited to say staging claims nothing and runs nothing."""
    await failed_run(restate_stack, key)
    await failed_run(second_restate_stack, key)
    posted = await readout(bot, "doctor prod")
    button = recover_button(posted, key)
    forged = {**button, "value": button["value"].replace("prod:", "staging:", 1)}
    blocks = [
        {**b, "accessory": forged} if b.get("accessory") == button else b for b in posted.blocks
    ]
    altered = dataclasses.replace(posted, params={**posted.params, "blocks": blocks})

    _, hook = await bot.click(altered, forged)

    [reply] = await bot.replies(hook)
    assert "PENDING_ACTION_UNAVAILABLE" in reply.text
    assert bot.fake.calls_to("chat.update") == []
    assert await still_failed(restate_stack, key)
    assert await still_failed(second_restate_stack, key)


async def test_a_staging_operator_cannot_click_a_prod_button(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """Prod's allowlist decides a prod click: the staging operator is denied (audited on prod),
    the button stays, and a prod operator's click then recovers the key."""
    await failed_run(restate_stack, key)
    posted = await readout(bot, "doctor prod")
    button = recover_button(posted, key)

    _, hook = await bot.click(posted, button, user=STAGER)

    [reply] = await bot.replies(hook)
    assert "🔴 PROD · OFFCHAIN_USER_PERMISSION_REQUIRED" in reply.params["text"]
    assert "the operator_allowlist of 🔴 PROD" in reply.params["text"]
    [denied] = [v for v in await latest(bot) if v.start.route == "recover-stuck-workflow"]
    assert (denied.start.actor.id, denied.start.environment, denied.outcome) == (
        STAGER,
        "prod",
        "denied",
    )
    await bot.click(posted, button, user=OPERATOR)
    await bot.fake.wait_for("chat.update", count=2)
    assert not await still_failed(restate_stack, key)


async def test_a_typed_write_previews_on_the_named_environment(
    bot: SlackBot, second_restate_stack: RestateStack, key: str
) -> None:
    """``recover … env=staging`` previews staging's key with a staging button."""
    await failed_run(second_restate_stack, key)

    preview = await readout(bot, f"recover {WORKFLOW} {key} env=staging INC-9")

    assert header(preview).startswith("staging · 🛠 Confirm: Recover")
    [button] = buttons(preview)
    assert button["value"].startswith("staging:")
    await bot.click(preview, button)
    await bot.fake.wait_for("chat.update", count=2)
    assert not await still_failed(second_restate_stack, key)


async def test_a_form_carries_its_environment_and_a_forged_one_is_refused(
    bot: SlackBot, restate_stack: RestateStack, key: str
) -> None:
    """The prod recover form previews on prod; its metadata edited to name no environment is
    refused privately and posts nothing."""
    await failed_run(restate_stack, key)
    await bot.command("recover env=prod")
    [filled] = await bot.fake.wait_for("views.update")
    form = dict(filled.answer["view"])
    [option] = [
        o
        for b in form["blocks"]
        if b.get("block_id") == CHOICE_BLOCK
        for o in b["element"]["options"]
        if key in o["text"]["text"]
    ]
    values = {CHOICE_BLOCK: {CHOICE_ACTION: {"type": "static_select", "selected_option": option}}}
    assert "🔴 PROD" in json.dumps(form, ensure_ascii=False)

    forged = {**form, "private_metadata": form["private_metadata"].replace('"prod"', '"qa"')}
    await bot.submit_view(forged, values)
    [refusal] = await bot.fake.wait_for("chat.postEphemeral")
    assert "environment" in refusal.text
    assert bot.fake.calls_to("chat.postMessage", in_channel) == []

    await bot.submit_view(form, values)
    [preview] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert header(preview).startswith("🔴 PROD · 🛠 Confirm")
    assert buttons(preview)[0]["value"].startswith("prod:")


async def test_audit_and_home_name_the_environments_each_reader_operates(
    bot: SlackBot,
) -> None:
    """The audit has an environment column; a staging operator sees staging's entries only, and
    their Home has staging's verdict and a note for prod."""
    await readout(bot, "doctor all")

    _, everything = await bot.command("audit 10")
    _, staging_only = await bot.command("audit 10", user=STAGER)
    [full] = await bot.replies(everything)
    [partial] = await bot.replies(staging_only)
    await bot.event({"type": "app_home_opened", "user": STAGER, "tab": "home"})
    [published] = await bot.fake.wait_for("views.publish")

    columns = {line.split()[0] for line in full.params["text"].splitlines()}
    assert {"prod", "staging"} <= columns
    assert {line.split()[0] for line in partial.params["text"].splitlines()} == {"staging"}
    home = json.dumps(published.answer["view"], ensure_ascii=False)
    assert "*staging*" in home
    assert "not on this environment's operator allowlist" in home
