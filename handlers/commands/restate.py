"""The ``/restate`` listener: ack at once; then parse, pick the environment, authorize, call the
core, render.

Only the ack is on the path of Slack's HTTP answer: the rest runs in the background
(``handlers.background``), where every refusal is answered privately (``handlers.errors``).
The environment is the one the text names (``env=<name>``, or ``doctor <name>``), else the one
the channel is bound to, else the default; the user is authorized against ITS allowlist.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import ALL_ENVIRONMENTS, DEFAULT_ENVIRONMENT, Environment
from core.errors import InvalidInput
from core.operations import Attempt
from handlers.blocks.help import help_message
from handlers.commands.audit import show_audit
from handlers.commands.doctor import post_doctor
from handlers.commands.doctor_all import post_doctor_all
from handlers.commands.parse import (
    ENV_USAGE,
    AuditCommand,
    Command,
    DoctorCommand,
    FormCommand,
    HelpCommand,
    InvalidCommand,
    WriteCommand,
    help_usage,
    parse_command,
    split_environment,
)
from handlers.commands.preview import post_preview
from handlers.commands.watch import run_watch_command
from handlers.commands.watch_parse import SnoozeCommand, WatchCommand
from handlers.deps import Listener, SlackDeps
from handlers.errors import after_ack, naming_environment
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
    named, text = split_environment(command.text)
    env = _environment(deps, named, command.channel)
    setting = (
        "RESTATE_SERVICE_URL"
        if env.name == DEFAULT_ENVIRONMENT and not deps.environments.several
        else f"the service_url of environment {env.name}"
    )
    parsed = parse_command(
        text, live_service_url=env.operations.live_service_url, service_url_setting=setting
    )
    if isinstance(parsed, HelpCommand):
        await reply_ephemeral(respond, help_message(help_usage(deps.environments)))
        return
    if isinstance(parsed, DoctorCommand) and parsed.environment:
        if named and named != parsed.environment:
            raise InvalidCommand(
                f"Two environments named: {parsed.environment} and env={named}.", ENV_USAGE
            )
        if parsed.environment == ALL_ENVIRONMENTS:
            await post_doctor_all(
                deps,
                command.user_id,
                command.user_name,
                channel=command.channel,
                client=client,
                respond=respond,
            )
            return
        env = _environment(deps, parsed.environment, command.channel)
    if isinstance(parsed, AuditCommand) and not named:
        # Not one environment's: the attempts of every environment the user operates.
        actor = await deps.actor(command.user_id, command.user_name, env)
        await show_audit(deps, Attempt(actor=actor), parsed.count, respond)
        return
    actor = await deps.actor(command.user_id, command.user_name, env)
    reason = parsed.reason if isinstance(parsed, WriteCommand) else None
    attempt = Attempt(actor=actor, reason=reason, context={"channel": command.channel})
    async with naming_environment(deps.tag(env)):
        await _dispatch(deps, env, attempt, parsed, command, client, respond, bot_user_id)


async def _dispatch(
    deps: SlackDeps,
    env: Environment,
    attempt: Attempt,
    parsed: Command,
    command: SlashCommand,
    client: AsyncWebClient,
    respond: AsyncRespond,
    bot_user_id: str | None,
) -> None:
    """Run ``parsed`` on ``env`` for ``attempt``'s actor (checked against ``env``)."""
    if isinstance(parsed, WatchCommand | SnoozeCommand):
        await run_watch_command(
            env.watch, attempt, parsed, channel=command.channel, respond=respond, tag=deps.tag(env)
        )
    elif isinstance(parsed, AuditCommand):
        await show_audit(deps, attempt, parsed.count, respond, env)
    elif isinstance(parsed, DoctorCommand):
        await post_doctor(
            deps,
            env,
            attempt,
            channel=command.channel,
            client=client,
            respond=respond,
            bot_user_id=bot_user_id,
        )
    elif isinstance(parsed, FormCommand):
        await open_form(
            deps,
            env,
            attempt,
            parsed.kind,
            trigger_id=command.trigger_id,
            channel=command.channel,
            client=client,
        )
    elif isinstance(parsed, WriteCommand):
        await post_preview(
            deps,
            env,
            attempt,
            parsed,
            channel=command.channel,
            client=client,
            respond=respond,
            bot_user_id=bot_user_id,
        )


def _environment(deps: SlackDeps, name: str | None, channel: str) -> Environment:
    """The environment named, else the channel's, else the default; an unknown name is refused
    naming it and the valid ones."""
    try:
        return deps.env(name, channel=channel)
    except InvalidInput as exc:
        raise InvalidCommand(f"Unknown environment {name!r}: {exc.rule}.", ENV_USAGE) from None
