"""Refusals of triage listeners are answered inside the listener, after ``ack()``.

Bolt runs a listener as a task after ``ack()``; when it raises within a few milliseconds, Bolt can
reset the acknowledgement and answer Slack with nothing ("didn't call ack()"). So expected
refusals (``OpsError``, a bad filter) are answered here with the global handler's renderer, and
only real bugs reach the global error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from core.errors import OpsError
from handlers.commands.parse import InvalidCommand
from handlers.errors import render_error
from handlers.messages import reply_ephemeral

log = logging.getLogger(__name__)


async def answered(respond: AsyncRespond, body: dict[str, Any], work: Awaitable[None]) -> None:
    """Await ``work``; an ``OpsError`` or ``InvalidCommand`` becomes an ephemeral reply."""
    try:
        await work
    except (OpsError, InvalidCommand) as exc:
        log.info("triage refused: %s", exc)
        await reply_ephemeral(respond, render_error(exc, body))
