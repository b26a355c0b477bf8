"""Generated slash-command texts and button payloads (hypothesis), correctly signed, sent to the
real Bolt HTTP endpoint (``tests.integration.slack_harness``) over the real Restate and Redis.

Per request: a command is answered 200 (Slack shows anything else as "dispatch_failed"), a button
payload never gets a 5xx (an action id no listener handles may get Bolt's 404). Over the module
(the last test, once every generated request is answered): no Restate write at all (a recording
proxy sits in front of the admin API: commands only preview, and no generated button refers to a
stored action), every audited attempt has its finish, and the audit chain verifies.

Deterministic (``derandomize=True``, no example database) and bounded (``max_examples``; no
shrinking, which would replay slow failures many times: derandomized runs reproduce anyway).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.audit import AttemptView
from handlers.ids import OFFERS_BLOCK, run_action_id
from tests.integration.admin_recorder import RecordingAdminProxy
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.slack_harness import (
    CHANNEL,
    GROUP_MEMBER,
    OPERATOR,
    VISITOR,
    SlackBot,
    running_bot,
)
from tests.slack_fake import TEAM_ID

pytestmark = pytest.mark.integration

PASSWORD = "fuzz-slack-hunter2"
#: Audited attempts must all be finished within this many seconds after the last request.
SETTLE_S = 30.0

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)

# Slack sends valid UTF-8: no lone surrogates in what it signs (the HTTP fuzz covers those).
unicode_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
words = st.sampled_from(
    [
        "doctor",
        "redeploy",
        "cleanup",
        "recover",
        "audit",
        "help",
        "frobnicate",
        "force-drain",
        "--force-drain",
        "999",
        "-1",
        "0",
        "IdentityRecoveryWorkflow",
        "a/b",
        "'; DROP TABLE state; --",
        f"http://admin:{PASSWORD}@nope:1/",
        f"<http://admin:{PASSWORD}@nope:1/|label>",
        "<http://x>",
        "&lt;&gt;&amp;",
        "http://",
        "\u0000",
        "🙂",
        "x" * 3000,
    ]
)
command_texts = st.lists(words | unicode_text, max_size=5).map(" ".join)
users = st.sampled_from([OPERATOR, OPERATOR, GROUP_MEMBER, VISITOR])
scalars = st.none() | st.booleans() | st.integers() | unicode_text
action_ids = (
    st.sampled_from(
        [
            run_action_id("force-redeploy", 0),
            run_action_id("cleanup-stale-deployments", 1),
            run_action_id("recover-stuck-workflow", 2),
            "restate.run:doctor:0",
            "restate.run:",
        ]
    )
    | scalars
)
button_values = st.sampled_from(["", "pa_" + "0" * 32, "pa_../../x"]) | scalars
actions = st.fixed_dictionaries(
    {"action_id": action_ids, "value": button_values, "type": st.just("button")},
    optional={"block_id": st.sampled_from([OFFERS_BLOCK, "x"]) | scalars},
)


@dataclass
class SlackTarget:
    bot: SlackBot
    proxy: RecordingAdminProxy
    sent: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
async def target(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService, redis_url: str
) -> AsyncIterator[SlackTarget]:
    async with (
        RecordingAdminProxy(restate_stack.admin_url) as proxy,
        running_bot(
            admin_url=proxy.url,
            ingress_url=restate_stack.ingress_url,
            redis_url=redis_url,
            prefix=f"fuzz-slack:{uuid.uuid4().hex[:8]}:",
            service_url=workflow_service.url,
        ) as bot,
    ):
        yield SlackTarget(bot, proxy)


def click_payload(user: str, listed: list[dict[str, Any]]) -> dict[str, Any]:
    """A block_actions payload as Slack sends it, with generated ``actions``."""
    ts = "1700000000.000100"
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0RESTATE",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL},
        "trigger_id": "trigger.fuzz",
        "channel": {"id": CHANNEL, "name": "incident"},
        "message": {"type": "message", "ts": ts, "text": "readout", "blocks": []},
        "response_url": "",
        "actions": listed,
    }


@FUZZ
@given(text=command_texts, user=users)
async def test_any_command_text_is_answered_200(target: SlackTarget, text: str, user: str) -> None:
    """A signed `/restate <anything>` from anyone is answered 200."""
    target.sent.append(text)
    response, _ = await target.bot.command(text, user=user)
    assert response.status_code == 200, (text, response.status_code, response.text)


@FUZZ
@given(user=users, listed=st.lists(actions, max_size=2))
async def test_any_button_payload_is_answered_without_a_server_error(
    target: SlackTarget, user: str, listed: list[dict[str, Any]]
) -> None:
    """A signed block_actions payload with odd action ids, values and users never gets a 5xx."""
    target.sent.append(json.dumps(listed))
    payload = click_payload(user, listed)
    body = urlencode({"payload": json.dumps(payload)})
    response = await target.bot.post(body, "application/x-www-form-urlencoded")
    assert response.status_code < 500, (listed, response.status_code, response.text)


async def _settled(read: Callable[[], Awaitable[list[AttemptView]]]) -> list[AttemptView]:
    """The audit rows once none is in progress (polled, bounded): Slack work runs after the ack,
    so the answers came before the rows."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        views = await read()
        if all(view.finish is not None for view in views) or time.monotonic() > deadline:
            return views
        await asyncio.sleep(0.05)


async def test_generated_requests_wrote_nothing_and_were_all_audited(
    target: SlackTarget,
) -> None:
    """After every generated request: no Restate write, every audited attempt finished, and the
    audit chain intact."""
    assert target.sent, "run with the generating tests above"
    audit = target.bot.services.audit
    views = await _settled(lambda: audit.latest(1000))
    assert target.proxy.writes() == []
    assert [v.start.request_id for v in views if v.finish is None] == []
    assert views, "the generated doctor and write commands were audited"
    assert (await audit.verify()).ok
