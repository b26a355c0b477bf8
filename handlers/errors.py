"""The one global error handler: every error a listener raises becomes an ephemeral reply.

``OpsError`` shows its code, message, next step and request id (with the command's usage for an
invalid value); malformed command text shows what was wrong and the usage; anything else is
logged with its traceback and answered with a short apology. Unhandled requests are logged.
"""

from __future__ import annotations

from logging import Logger
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError

from core.errors import InvalidInput, OpsError
from handlers.blocks.errors import error_message, internal_error_message, usage_message
from handlers.blocks.format import Rendered
from handlers.commands.parse import InvalidCommand, usage_for
from handlers.messages import reply_ephemeral


def render_error(error: Exception, body: dict[str, Any]) -> Rendered:
    """The ephemeral reply for ``error`` raised while handling ``body``."""
    if isinstance(error, InvalidCommand):
        return usage_message(error.problem, error.usage)
    if isinstance(error, InvalidInput) and body.get("command"):
        return error_message(error, usage_for(str(body.get("text") or "")))
    if isinstance(error, OpsError):
        return error_message(error)
    return internal_error_message()


async def handle_error(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None, logger: Logger
) -> None:
    if isinstance(error, BoltUnhandledRequestError):
        logger.warning("unhandled Slack request: %s", body.get("type") or body.get("command"))
        return
    if isinstance(error, InvalidCommand | OpsError):
        logger.info("refused: %s", error)
    else:
        logger.exception("listener failed", exc_info=error)
    if respond is not None:
        await reply_ephemeral(respond, render_error(error, body))
