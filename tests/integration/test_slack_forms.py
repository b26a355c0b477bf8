"""``/restate recover`` and ``/restate cleanup`` without arguments: a form filled from doctor.

Round trip through the signed HTTP endpoint: the command opens a modal (``views.open`` with its
trigger), doctor fills it (``views.update``), the signed ``view_submission`` posts the same
preview and confirm button as the typed command.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from handlers.blocks.modals import CHOICE_ACTION, CHOICE_BLOCK, REASON_ACTION, REASON_BLOCK
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.slack_harness import (
    CHANNEL,
    VISITOR,
    WORKFLOW,
    SlackBot,
    buttons,
    failed_run,
    in_channel,
)
from tests.slack_fake import SlackCall

pytestmark = pytest.mark.integration


def view_of(call: SlackCall) -> dict[str, Any]:
    return dict(call.answer["view"])


def options(view: dict[str, Any]) -> list[dict[str, Any]]:
    [select] = [b["element"] for b in view["blocks"] if b.get("block_id") == CHOICE_BLOCK]
    return list(select["options"])


def chosen(option: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        CHOICE_BLOCK: {CHOICE_ACTION: {"type": "static_select", "selected_option": option}}
    }
    if reason is not None:
        values[REASON_BLOCK] = {REASON_ACTION: {"type": "plain_text_input", "value": reason}}
    return values


async def test_recover_form_round_trip(bot: SlackBot, restate_stack: RestateStack) -> None:
    """The form lists the failed key; submitting it posts the recover preview with its button."""
    key = f"k{uuid.uuid4().hex[:10]}"
    await failed_run(restate_stack, key)

    await bot.command("recover")

    [opened] = await bot.fake.wait_for("views.open")
    assert opened.params["trigger_id"].startswith("trigger.cmd")
    [filled] = await bot.fake.wait_for("views.update")
    form = view_of(filled)
    assert form["callback_id"] == "restate.form.recover"
    [option] = [o for o in options(form) if key in o["text"]["text"]]
    response = await bot.submit_view(form, chosen(option, "INC-42 customer waiting"))
    assert response.status_code == 200
    [preview] = await bot.fake.wait_for("chat.postMessage", in_channel)
    assert preview.params["channel"] == CHANNEL
    assert f"Confirm: Recover {WORKFLOW}/{key}" in preview.text
    assert "INC-42 customer waiting" in preview.text
    [button] = buttons(preview)
    assert button["style"] == "danger"


async def test_cleanup_form_lists_registered_urls(
    bot: SlackBot, workflow_service: RegisteredWorkflowService
) -> None:
    """The cleanup form offers the registered deployment URLs; no choice keeps it open."""
    await bot.command("cleanup")

    [filled] = await bot.fake.wait_for("views.update")
    form = view_of(filled)
    assert workflow_service.url in [o["text"]["text"] for o in options(form)]
    response = await bot.submit_view(form, {})
    assert json.loads(response.text)["response_action"] == "errors"
    assert bot.fake.calls_to("chat.postMessage") == []


async def test_denied_user_sees_why_in_the_form(bot: SlackBot) -> None:
    """A user without operate permission gets the form's refusal, not a stuck loading view."""
    await bot.command("recover", user=VISITOR)

    [updated] = await bot.fake.wait_for("views.update")
    shown = json.dumps(view_of(updated))
    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in shown
    assert CHOICE_BLOCK not in shown  # no choices for someone who may not act
