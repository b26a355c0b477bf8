"""The Bolt app: one Slack Web API client, the listeners, the global error handler.

HTTP mode mounts it at ``POST /slack/events`` behind ``bot.slack_events`` (signature first);
Socket Mode runs it over a WebSocket (``bot.socket_mode``). Both run the same listeners.

``process_before_response=True``: Bolt awaits the listener and answers as soon as it returns. Our
listeners only ack and start their work in the background (``handlers.background``), so the
answer leaves at once, without Bolt's 10 ms polling for the ack, and a failure after the ack can
no longer erase it (Bolt's asynchronous runner sets ``ack.response = None`` when a listener raises).
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)

from bot.services import Services
from bot.settings import SettingsError
from handlers.background import Background
from handlers.boundary import RedactingWebClient
from handlers.identity import BotIdentity
from handlers.register import register_listeners

log = logging.getLogger(__name__)


def slack_web_client(token: str, base_url: str) -> RedactingWebClient:
    """A client for ``base_url`` that redacts what it sends and retries a little (a long sleep
    would delay the reply)."""
    return RedactingWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def build_slack_app(
    services: Services,
    *,
    client: RedactingWebClient | None = None,
    background: Background | None = None,
) -> AsyncApp:
    """The Bolt app for ``services``; raises ``SettingsError`` when Slack is not configured.

    Listeners run their work on ``background``: pass one to ``drain`` it before closing services.
    """
    settings = services.settings
    if settings.slack_bot_token is None:
        raise SettingsError("SLACK_BOT_TOKEN: required to serve Slack")
    if client is None:
        client = slack_web_client(
            settings.slack_bot_token.get_secret_value(), str(settings.slack_api_url)
        )
    secret = settings.slack_signing_secret
    background = background or Background()
    identity = BotIdentity(client, background)
    app = AsyncApp(
        client=client,
        # auth.test off the ack path (handlers.identity), instead of Bolt's before the first ack.
        authorize=identity.authorize(),
        # Socket Mode needs no signing secret (the socket is authenticated); HTTP mode always
        # verifies, and an empty secret fails every request closed.
        signing_secret=secret.get_secret_value() if secret else "",
        raise_error_for_unhandled_request=True,
        process_before_response=True,  # see the module docstring
        logger=logging.getLogger("slack_bolt"),
        name="restate-ops",
    )
    register_listeners(
        app,
        environments=services.environments,
        pending=services.pending,
        audit=services.audit,
        background=background,
        runbook_url=str(settings.runbook_url) if settings.runbook_url else None,
    )
    return app
