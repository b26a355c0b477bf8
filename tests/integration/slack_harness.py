"""The bot's real HTTP app (``bot.http``) on a free port, fed correctly signed Slack requests.

The Slack Web API is ``tests.slack_fake.FakeSlack``; Restate and Redis are the real ones from the
integration fixtures. ``running_bot`` builds everything the way ``restate-ops serve`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
import uvicorn

from bot.devstack import WorkflowIngress
from bot.devstack.waiting import wait_for_status
from bot.http import build_http_app
from bot.serve import bind
from bot.services import Services, build_services
from bot.settings import load_settings
from bot.slack_app import build_slack_app
from core.restate.client import RestateAdminClient
from handlers.background import Background
from tests.slack_fake import TEAM_ID, FakeSlack, SlackCall

if TYPE_CHECKING:  # not at run time: conftest imports this module
    from tests.integration.conftest import RestateStack

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
OPERATOR = "UOPERATOR1"
GROUP_MEMBER = "UONCALL1"
VISITOR = "UVISITOR1"
ONCALL_GROUP = "SONCALL1"
CHANNEL = "CINCIDENT1"
NAMES = {OPERATOR: "olivia", GROUP_MEMBER: "gus", VISITOR: "victor"}
#: The sample workflow whose runs the click tests fail and recover.
WORKFLOW = "IdentityRecoveryWorkflow"
_hooks = itertools.count(1)
#: Slack gives up on a command or a click that is not answered within this.
SLACK_ACK_DEADLINE = timedelta(seconds=3)


def sign(raw: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's ``X-Slack-Signature`` of ``raw`` (any bytes) at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackBot:
    """The running bot: its URL, the fake Slack it talks to, and its services (Redis, core)."""

    url: str
    fake: FakeSlack
    services: Services
    http: httpx.AsyncClient

    background: Background

    async def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        secret: str = SIGNING_SECRET,
    ) -> httpx.Response:
        """POST ``body`` to ``/slack/events`` signed with ``secret`` at ``timestamp`` (now)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        raw = body.encode() if isinstance(body, str) else body
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": sign(raw, ts, secret),
        }
        response = await self.http.post(f"{self.url}/slack/events", content=raw, headers=headers)
        # Slack's contract, checked on every request every Slack test sends.
        assert response.elapsed < SLACK_ACK_DEADLINE, f"answered after {response.elapsed}"
        return response

    async def settled(self) -> None:
        """Wait until the work the listeners started after their acks has finished."""
        await self.background.drain(timeout_s=60)

    async def command(
        self, text: str, *, user: str = OPERATOR, channel: str = CHANNEL, **signing: Any
    ) -> tuple[httpx.Response, str]:
        """Send ``/restate text``; returns the response and the hook name of its response URL."""
        hook = f"cmd{next(_hooks)}"
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "incident",
            "user_id": user,
            "user_name": NAMES.get(user, user.lower()),
            "command": "/restate",
            "text": text,
            "api_app_id": "A0RESTATE",
            "response_url": self.fake.response_url(hook),
            "trigger_id": f"trigger.{hook}",
        }
        body = urlencode(form)
        return await self.post(body, "application/x-www-form-urlencoded", **signing), hook

    async def click(
        self, message: SlackCall, element: dict[str, Any], *, user: str = OPERATOR
    ) -> tuple[httpx.Response, str]:
        """Click ``element`` (a button of ``message``), as Slack's block_actions payload does."""
        hook = f"click{next(_hooks)}"
        block = next(
            b
            for b in message.blocks
            if element in b.get("elements", []) or b.get("accessory") == element
        )
        ts = str(message.answer.get("ts") or "1700000000.000000")
        channel = str(message.params.get("channel") or CHANNEL)
        # A reply in a thread says so, as Slack's payload does (container and message).
        thread = (
            {"thread_ts": message.params["thread_ts"]} if message.params.get("thread_ts") else {}
        )
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "acme"},
            "user": {
                "id": user,
                "username": NAMES.get(user, user.lower()),
                "name": NAMES.get(user, user.lower()),
                "team_id": TEAM_ID,
            },
            "api_app_id": "A0RESTATE",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
                **thread,
            },
            "trigger_id": f"trigger.{hook}",
            "channel": {"id": channel, "name": "incident"},
            "message": {
                "type": "message",
                "ts": ts,
                "bot_id": "BBOTRESTATE",
                "text": message.params.get("text"),
                "blocks": message.blocks,
                **thread,
            },
            "response_url": self.fake.response_url(hook),
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": block["block_id"],
                    "text": element["text"],
                    "value": element.get("value"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded"), hook

    async def submit_view(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = OPERATOR
    ) -> httpx.Response:
        """Submit the modal ``view`` (as the bot opened it) with ``values`` (Slack's
        ``view.state.values``), as Slack's signed view_submission payload does."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "acme"},
            "user": {"id": user, "username": NAMES.get(user, user.lower()), "team_id": TEAM_ID},
            "api_app_id": "A0RESTATE",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger.view{next(_hooks)}",
            "view": {**view, "state": {"values": values}},
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any]) -> httpx.Response:
        """Deliver an Events API ``event`` (signed event_callback)."""
        payload = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A0RESTATE",
            "type": "event_callback",
            "event_id": f"Ev{next(_hooks):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(payload), "application/json")

    async def replies(self, hook: str, *, count: int = 1) -> list[SlackCall]:
        """The posts to the response URL of the request that used ``hook``."""
        return await self.fake.wait_for("response_url", lambda c: c.hook == hook, count=count)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the test decides when it stops."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _started(server: uvicorn.Server) -> None:
    """Readiness by polling the server's own flag (bounded), never by a fixed sleep."""
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)


def buttons(message: SlackCall, *, writes_only: bool = True) -> list[dict[str, Any]]:
    """Every write button in ``message`` (in actions blocks or beside a section), in order;
    ``writes_only=False`` adds the read-only ones (a stuck run's *Details*)."""
    found: list[dict[str, Any]] = []
    for block in message.blocks:
        if block.get("type") == "actions":
            found += block.get("elements", [])
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
    return [b for b in found if not writes_only or "confirm" in b]


@asynccontextmanager
async def running_bot(
    *,
    admin_url: str,
    ingress_url: str | None,
    redis_url: str,
    prefix: str,
    service_url: str | None = None,
    pending_ttl_s: int = 900,
    fake: FakeSlack | None = None,
    **overrides: Any,
) -> AsyncIterator[SlackBot]:
    """The bot in HTTP mode (``bot.http`` under uvicorn) against ``fake`` (or a fresh one).

    On exit the server stops, then the listeners' background work is drained, then the clients
    close: nothing the test started is left running against closed clients.
    """
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeSlack())
        fake.group_members[ONCALL_GROUP] = [GROUP_MEMBER]
        settings = load_settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SIGNING_SECRET,
            slack_app_token=None,
            slack_api_url=fake.api_url,
            operator_allowlist=f"{OPERATOR},{ONCALL_GROUP}",
            restate_admin_url=admin_url,
            restate_ingress_url=ingress_url,
            restate_service_url=service_url,
            redis_url=redis_url,
            audit_stream=f"{prefix}audit",
            pending_action_ttl_s=pending_ttl_s,
            probe_timeout_s=5.0,
            **overrides,
        )
        async with build_services(settings) as services:
            background = Background()
            app = build_http_app(services, build_slack_app(services, background=background))
            server = _Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
            with closing(bind("127.0.0.1", 0)) as sock:
                task = asyncio.create_task(server.serve(sockets=[sock]))
                try:
                    await _started(server)
                    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
                    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
                        yield SlackBot(url, fake, services, http, background)
                finally:
                    server.should_exit = True
                    await task
                    await background.drain(timeout_s=60)


async def failed_run(stack: RestateStack, key: str) -> str:
    """Start a run of ``key`` that fails terminally; return its invocation id once completed."""
    async with WorkflowIngress(stack.ingress_url) as ingress:
        submitted = await ingress.submit(WORKFLOW, key, {"mode": "fail"})
    async with RestateAdminClient(stack.admin_url) as admin:
        await wait_for_status(admin, WORKFLOW, key, "completed")
    return submitted.invocation_id


async def doctor_button(bot: SlackBot, key: str) -> tuple[SlackCall, dict[str, Any]]:
    """Run doctor; return the posted message and the recover button for ``key``."""
    await bot.command("doctor")
    [posted] = await bot.fake.wait_for("chat.postMessage", in_channel)
    button = next(b for b in buttons(posted) if f"/{key}" in b["confirm"]["text"]["text"])
    return posted, button


def in_channel(call: SlackCall) -> bool:
    """A post into the channel itself, not a reply in a thread."""
    return "thread_ts" not in call.params


def is_details(call: SlackCall) -> bool:
    """The readout's details (the first reply under a doctor message)."""
    return any(str(b.get("block_id", "")).startswith("restate.details") for b in call.blocks)


def thread(bot: SlackBot, message: SlackCall, *, details: bool = False) -> list[SlackCall]:
    """The replies under ``message``; without the readout's details unless asked for."""
    ts = message.answer["ts"]
    replies = bot.fake.calls_to("chat.postMessage", lambda c: c.params.get("thread_ts") == ts)
    return [c for c in replies if details or not is_details(c)]
