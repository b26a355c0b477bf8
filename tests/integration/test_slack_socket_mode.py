"""Socket Mode runs the same listeners: a slash command over the WebSocket posts doctor.

The fake Slack hands out a local ``ws://`` URL from ``apps.connections.open`` and delivers the
envelope; ``bot.socket_mode.run_socket_mode`` connects with the app-level token, acknowledges the
envelope and the listener posts the readout through the Web API, as in HTTP mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from bot.services import build_services
from bot.settings import load_settings
from bot.slack_app import build_slack_app
from bot.socket_mode import run_socket_mode
from handlers.background import Background
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.slack_harness import CHANNEL, OPERATOR, in_channel
from tests.slack_fake import SOCKET_ACK, TEAM_ID, FakeSlack

pytestmark = pytest.mark.integration


async def test_slash_command_over_socket_mode_posts_doctor(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """A /restate envelope is acknowledged on the socket and doctor lands in the channel.

    The live service URL carries credentials: over the socket too, none reaches Slack.
    """
    live_url = workflow_service.url.replace("http://", "http://ops:socket-pw-123@", 1)
    async with FakeSlack() as fake:
        settings = load_settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=None,
            slack_app_token="xapp-test-token",
            slack_api_url=fake.api_url,
            operator_allowlist=OPERATOR,
            restate_admin_url=restate_stack.admin_url,
            restate_ingress_url=restate_stack.ingress_url,
            restate_service_url=live_url,
            redis_url=redis_url,
            audit_stream=f"{redis_prefix}audit",
        )
        async with build_services(settings) as services:
            task = asyncio.create_task(
                run_socket_mode(build_slack_app(services), "xapp-test-token")
            )
            try:
                envelope_id = await fake.send_envelope(
                    "slash_commands",
                    {
                        "team_id": TEAM_ID,
                        "channel_id": CHANNEL,
                        "user_id": OPERATOR,
                        "user_name": "olivia",
                        "command": "/restate",
                        "text": "doctor",
                        "response_url": fake.response_url("socket"),
                        "trigger_id": "trigger.socket",
                    },
                )

                await fake.wait_for(SOCKET_ACK, lambda c: c.params["envelope_id"] == envelope_id)
                [posted] = await fake.wait_for("chat.postMessage", in_channel)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    assert posted.params["channel"] == CHANNEL
    assert "Restate doctor" in posted.text
    assert "REDACTED@" in posted.text  # the advice to register the live URL names it ...
    assert not [c for c in fake.calls if "socket-pw-123" in json.dumps(c.params)]  # ... safely
    [opened] = fake.calls_to("apps.connections.open")
    assert opened.token == "xapp-test-token"


async def test_refusal_over_socket_mode_is_acknowledged_and_explained(
    restate_stack: RestateStack, redis_url: str, redis_prefix: str
) -> None:
    """An unknown subcommand over the socket is acked, then answered privately with its code."""
    async with FakeSlack() as fake:
        settings = load_settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=None,
            slack_app_token="xapp-test-token",
            slack_api_url=fake.api_url,
            operator_allowlist=OPERATOR,
            restate_admin_url=restate_stack.admin_url,
            restate_ingress_url=restate_stack.ingress_url,
            redis_url=redis_url,
            audit_stream=f"{redis_prefix}audit",
        )
        async with build_services(settings) as services:
            background = Background()
            app = build_slack_app(services, background=background)
            task = asyncio.create_task(run_socket_mode(app, "xapp-test-token"))
            try:
                envelope_id = await fake.send_envelope(
                    "slash_commands",
                    {
                        "team_id": TEAM_ID,
                        "channel_id": CHANNEL,
                        "user_id": OPERATOR,
                        "command": "/restate",
                        "text": "frobnicate",
                        "response_url": fake.response_url("socket-refusal"),
                    },
                )

                [ack] = await fake.wait_for(
                    SOCKET_ACK, lambda c: c.params["envelope_id"] == envelope_id
                )
                [reply] = await fake.wait_for("response_url")
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await background.drain(timeout_s=10)

    assert "payload" not in ack.params or not ack.params["payload"]  # a bare ack
    assert reply.params["response_type"] == "ephemeral"
    assert "INVALID_INPUT" in reply.text
    assert "Unknown command 'frobnicate'" in reply.text
