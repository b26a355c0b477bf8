"""The ``/restate`` listener: ack at once; then parse, authorize, call the core, render.

Only the ack is on the path of Slack's HTTP answer: the rest runs in the background
(``handlers.background``), where every refusal is answered privately (``handlers.errors``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.operations import Attempt
from handlers.blocks.help import help_message
from handlers.commands.audit import show_audit
from handlers.commands.doctor import post_doctor
from handlers.commands.parse import (
    ALL_USAGE,
    AuditCommand,
    DoctorCommand,
    FormCommand,
    HelpCommand,
    WriteCommand,
    parse_command,
)
from handlers.commands.preview import post_preview
from handlers.commands.watch import run_watch_command
from handlers.commands.watch_parse import SnoozeCommand, WatchCommand
from handlers.deps import Listener, SlackDeps
from handlers.errors import after_ack
from handlers.messages import reply_ephemeral
from handlers.payloads import SlashCommand
from handlers.views.forms import open_form


def restate_command(deps: SlackDeps) -> Listener:
    """The listener for ``/restate``; Bolt injects its arguments by name."""

    async def restate(
        ack: AsyncAck,
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        work = _handle(deps, command, client, respond, context.bot_user_id)
        after_ack(deps.background, work, command, respond, name="slack-command")

    return restate


async def _handle(
    deps: SlackDeps,
    payload: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    bot_user_id: str | None,
) -> None:
    command = SlashCommand.from_payload(payload)
    parsed = parse_command(command.text, live_service_url=deps.operations.live_service_url)
    if isinstance(parsed, HelpCommand):
        await reply_ephemeral(respond, help_message(ALL_USAGE))
        return
    actor = await deps.actor(command.user_id, command.user_name)
    reason = parsed.reason if isinstance(parsed, WriteCommand) else None
    attempt = Attempt(actor=actor, reason=reason, context={"channel": command.channel})
    if isinstance(parsed, WatchCommand | SnoozeCommand):
        await run_watch_command(
            deps.watch, attempt, parsed, channel=command.channel, respond=respond
        )
    elif isinstance(parsed, AuditCommand):
        await show_audit(deps, attempt, parsed.count, respond)
    elif isinstance(parsed, DoctorCommand):
        await post_doctor(
            deps,
            attempt,
            channel=command.channel,
            client=client,
            respond=respond,
            bot_user_id=bot_user_id,
        )
    elif isinstance(parsed, FormCommand):
        await open_form(
            deps,
            attempt,
            parsed.kind,
            trigger_id=command.trigger_id,
            channel=command.channel,
            client=client,
        )
    else:
        await post_preview(
            deps,
            attempt,
            parsed,
            channel=command.channel,
            client=client,
            respond=respond,
            bot_user_id=bot_user_id,
        )
