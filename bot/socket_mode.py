"""Slack Socket Mode: the same Bolt app over an outbound WebSocket (no public URL needed)."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


async def run_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Connect with the app-level token (``xapp-…``) and serve until cancelled, then close."""
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]  # untyped in slack_bolt
        log.info("connected to Slack in Socket Mode")
        await asyncio.Event().wait()  # the socket client serves in its own tasks; wait forever
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # untyped in slack_bolt
