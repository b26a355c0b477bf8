"""Every failure becomes an ephemeral reply with its code, next step and request id.

Listeners ack first and do their work in the background (``handlers.background``); the work is
wrapped in :func:`answering`, so a refusal (``OpsError``, malformed command text) is answered
inside the listener and never reaches Bolt's runner, which would erase the ack it already sent.
Anything unexpected is logged with its traceback and answered with a short apology.

The global handler (:func:`error_handler`) sees only what fails before a listener runs: a signed
but odd payload, or an unhandled request. It answers 200 at once and replies in the background.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from logging import Logger
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import InvalidInput, OpsError
from core.ids import new_request_id
from handlers.background import Background
from handlers.blocks.environment import EnvTag
from handlers.blocks.errors import (
    ENVIRONMENT_KEY,
    error_message,
    internal_error_message,
    usage_message,
)
from handlers.blocks.format import Rendered
from handlers.commands.parse import InvalidCommand, usage_for
from handlers.messages import reply_ephemeral

log = logging.getLogger(__name__)


@asynccontextmanager
async def naming_environment(tag: EnvTag) -> AsyncIterator[None]:
    """A refusal raised inside names the environment it concerns (when messages name it): a
    denied user then reads which environment's allowlist they are missing from."""
    try:
        yield
    except OpsError as exc:
        if tag.badge:
            exc.data.setdefault(ENVIRONMENT_KEY, tag.badge)
        raise


def render_error(error: Exception, body: dict[str, Any], request_id: str | None = None) -> Rendered:
    """The ephemeral reply for ``error`` raised while handling ``body``."""
    if isinstance(error, InvalidCommand):
        return usage_message(error.problem, error.usage, request_id)
    command_text = body.get("text") if body.get("command") else None
    if isinstance(error, InvalidInput) and isinstance(command_text, str):
        return error_message(error, usage_for(command_text))
    if isinstance(error, OpsError):
        return error_message(error)
    return internal_error_message(request_id)


async def reply_failure(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None, request_id: str
) -> None:
    """Log ``error`` and answer it privately; a reply that cannot be sent is logged too."""
    if isinstance(error, OpsError) and error.request_id is None:
        error.with_request_id(request_id)
    if isinstance(error, InvalidCommand | OpsError):
        shown = error.request_id if isinstance(error, OpsError) else request_id
        log.info("refused (request %s): %s", shown, error)
    else:
        log.error("Slack request %s failed", request_id, exc_info=error)
    if respond is None or respond.response_url is None:
        return
    try:
        await reply_ephemeral(respond, render_error(error, body, request_id))
    except Exception:  # the reply is the last resort: nothing is left to tell but the log
        log.exception("could not send the error reply for request %s", request_id)


async def answering(
    work: Awaitable[None], body: dict[str, Any], respond: AsyncRespond | None
) -> None:
    """Run a listener's work; any failure is answered privately instead of raised."""
    try:
        await work
    except Exception as exc:  # the one catch of every listener: see the module docstring
        await reply_failure(exc, body, respond, new_request_id())


def after_ack(
    background: Background,
    work: Coroutine[Any, Any, None],
    body: dict[str, Any],
    respond: AsyncRespond | None,
    *,
    name: str,
) -> None:
    """Start a listener's work after its ack, with its failures answered (see ``answering``)."""
    background.start(answering(work, body, respond), name=name)


#: The work of one button click: ``(body, action, client, respond)``, run after the ack.
ClickWork = Callable[
    [dict[str, Any], dict[str, Any], AsyncWebClient, AsyncRespond], Coroutine[Any, Any, None]
]


def acked_click(
    background: Background, name: str, work: ClickWork
) -> Callable[..., Awaitable[None]]:
    """A button listener that acks, then hands ``work`` to the background runner.

    Bolt injects listener arguments by parameter name, so the names below are load-bearing.
    """

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        after_ack(background, work(body, action, client, respond), body, respond, name=name)

    return listener


def error_handler(background: Background) -> Callable[..., Awaitable[BoltResponse]]:
    """Bolt's global error handler: 200 at once, the explanation in the background."""

    async def handle_error(
        error: Exception, body: dict[str, Any], respond: AsyncRespond | None, logger: Logger
    ) -> BoltResponse:
        if isinstance(error, BoltUnhandledRequestError):
            kind = body.get("type") or body.get("command")
            logger.warning("unhandled Slack request: %s", str(kind)[:100])
            error_to_show: Exception = InvalidInput(
                "payload", "is not a /restate command or a restate-ops button"
            )
        else:
            error_to_show = error
        background.start(
            reply_failure(error_to_show, body, respond, new_request_id()), name="slack-error"
        )
        return BoltResponse(status=200, body="")

    return handle_error
