"""Logging for every entry point: plain lines on stderr, with the process's secrets masked."""

from __future__ import annotations

import logging

from bot.settings import Settings
from core.redact import install_log_redaction, redact_new_records


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Configure the root logger once; every configured secret is masked before it is written."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request at INFO: under a burst of doctors, hundreds of lines, each through
    # the redacting filter on the event loop, delaying Slack's acks. Its warnings still show.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    # On the handlers there now, and on every record created from now on (for later handlers).
    redact_new_records(install_log_redaction(known_secrets(settings)))


def known_secrets(settings: Settings) -> list[str]:
    """The exact secret values the process holds: API keys and Slack tokens."""
    tokens = (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token)
    configured = [token.get_secret_value() for token in tokens if token is not None]
    return [key.secret for key in settings.api_keys.keys] + configured
