"""The App Home tab through the signed HTTP endpoint: verdict, last actions, help."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.conftest import RestateStack
from tests.integration.slack_harness import (
    OPERATOR,
    VISITOR,
    SlackBot,
    doctor_button,
    failed_run,
)

pytestmark = pytest.mark.integration


def opened(user: str) -> dict[str, str]:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}


async def test_operator_home_shows_verdict_and_last_actions(
    bot: SlackBot, restate_stack: RestateStack
) -> None:
    """An operator's Home has the verdict, the action just audited, and the help."""
    key = f"k{uuid.uuid4().hex[:10]}"
    await failed_run(restate_stack, key)
    posted, button = await doctor_button(bot, key)
    await bot.click(posted, button)
    await bot.fake.wait_for("chat.update", count=2)

    response = await bot.event(opened(OPERATOR))

    assert response.status_code == 200
    [published] = await bot.fake.wait_for("views.publish")
    view = (
        json.loads(published.params["view"])
        if isinstance(published.params["view"], str)
        else published.params["view"]
    )
    shown = json.dumps(view, ensure_ascii=False)
    assert published.params["user_id"] == OPERATOR
    assert view["type"] == "home"
    assert "Restate doctor:" in shown
    assert "recover-stuck-workflow" in shown
    assert "succeeded" in shown
    assert "/restate recover" in shown  # the help


async def test_visitor_home_has_help_only(bot: SlackBot) -> None:
    """Someone outside the allowlist sees the help and why there is no readout."""
    await bot.event(opened(VISITOR))

    [published] = await bot.fake.wait_for("views.publish")
    shown = json.dumps(published.answer["view"], ensure_ascii=False)
    assert "not on the operator allowlist" in shown
    assert "Restate doctor:" not in shown
