"""The Bolt app: one Slack Web API client, the listeners, the global error handler.

HTTP mode mounts it at ``POST /slack/events`` (``bot.http``); Socket Mode runs it over a WebSocket
(``bot.socket_mode``). Both run the same listeners.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.settings import SettingsError
from handlers.register import register_listeners

log = logging.getLogger(__name__)


def slack_web_client(token: str, base_url: str) -> AsyncWebClient:
    """A client for ``base_url`` that retries a little: a long sleep would delay the reply."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def build_slack_app(services: Services, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app for ``services``; raises ``SettingsError`` when Slack is not configured."""
    settings = services.settings
    if settings.slack_bot_token is None:
        raise SettingsError("SLACK_BOT_TOKEN: required to serve Slack")
    try:
        allowlist = settings.allowlist
    except ValueError as exc:
        raise SettingsError(f"OPERATOR_ALLOWLIST: {exc}") from exc
    if client is None:
        client = slack_web_client(
            settings.slack_bot_token.get_secret_value(), str(settings.slack_api_url)
        )
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        # Socket Mode needs no signing secret (the socket is authenticated); HTTP mode always
        # verifies, and an empty secret fails every request closed.
        signing_secret=secret.get_secret_value() if secret else "",
        raise_error_for_unhandled_request=True,
        logger=logging.getLogger("slack_bolt"),
        name="restate-ops",
    )
    register_listeners(
        app,
        operations=services.operations,
        pending=services.pending,
        audit=services.audit,
        allowlist=allowlist,
    )
    return app
