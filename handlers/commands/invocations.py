"""``/restate invocations <filter>``: the triage readout in the channel, with action buttons.

Without filter words it opens a form (a modal) to build the filter. The filter is ``name=value``
words (quote values with spaces), or a bare status; ``all`` selects everything::

    /restate invocations service=Checkout status=paused,backing-off error-code=RT0011
    /restate invocations paused older-than=2h error="connection refused" limit=200
    /restate invocations env=staging paused

``env=NAME`` picks the environment (else the channel's, else the default); the readout and all
that follows from it (previews, runs, reports) act there and name it.

Registered on ``/restate`` with a matcher ahead of the general listener, so the rest of the
command surface is untouched. The bot must be in the channel: progress edits its own messages.
"""

from __future__ import annotations

import html
import json
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.operations import Attempt
from core.timestamps import iso_utc
from core.triage.filter import InvocationStatus
from handlers.blocks.format import Rendered
from handlers.blocks.triage import readout_message
from handlers.blocks.triage_filter import filter_modal
from handlers.commands.parse import (
    InvalidCommand,
    command_words,
    is_env_word,
    split_environment,
)
from handlers.deps import Listener, SlackDeps
from handlers.errors import after_ack, naming_environment
from handlers.messages import post_to_channel

SUBCOMMAND = "invocations"
USAGE = (
    "/restate invocations [env=NAME] [all | status…] [service=S] [handler=H] [key=K] "
    '[key-prefix=P] [status=a,b] [deployment=dp_…] [error="text"] [error-code=RT0011] '
    "[older-than=2h] [newer-than=15m] [limit=N]"
)
SHOWN = 10
_FIELDS = {
    "service": "service",
    "handler": "handler",
    "key": "key",
    "key-prefix": "keyPrefix",
    "status": "status",
    "deployment": "deployment",
    "error": "errorContains",
    "error-code": "errorCode",
    "older-than": "olderThan",
    "newer-than": "newerThan",
    "limit": "limit",
}
_STATUSES = frozenset(get_args(InvocationStatus))


def is_invocations(text: str) -> bool:
    """The first word that is not ``env=…`` is ``invocations`` (``/restate env=prod invocations``
    reads as ``/restate invocations env=prod``)."""
    words = [w for w in command_words(text) if not is_env_word(w)]
    return bool(words) and words[0].lower() == SUBCOMMAND


@dataclass(frozen=True)
class InvocationsCommand:
    """``/restate invocations …`` read: the environment named (if any) and the filter."""

    filter: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    #: No filter words at all: a form builds the filter.
    form: bool = False


def parse_invocations(text: str) -> InvocationsCommand:
    """``invocations`` and its words: one ``env=NAME`` (anywhere, lowercased) and the filter
    (its values checked by core)."""
    try:
        environment, text = split_environment(text)
    except InvalidCommand as exc:
        raise InvalidCommand(exc.problem, USAGE) from None
    try:
        words = shlex.split(html.unescape(text))
    except ValueError as exc:
        raise InvalidCommand(f"Cannot read the filter: {exc}.", USAGE) from exc
    rest = words[1:]  # after "invocations"
    return InvocationsCommand(_filter(rest), environment, form=not rest)


def _filter(words: list[str]) -> dict[str, Any]:
    """The filter words as the HTTP body's fields (values checked by core)."""
    args: dict[str, Any] = {}
    statuses: list[str] = []
    for word in words:
        name, sep, value = word.partition("=")
        if not sep:
            if word.lower() == "all":
                continue
            if word.lower() not in _STATUSES:
                raise InvalidCommand(f"Unknown filter {word!r}.", USAGE)
            statuses.append(word.lower())
            continue
        field = _FIELDS.get(name.lower())
        if field is None:
            raise InvalidCommand(f"Unknown filter {name!r}.", USAGE)
        if field == "status":
            statuses += [s.strip() for s in value.split(",") if s.strip()]
        elif field == "limit":
            if not value.isdigit():
                raise InvalidCommand(f"limit must be a number, not {value!r}.", USAGE)
            args[field] = int(value)
        else:
            args[field] = value
    if statuses:
        args["status"] = statuses
    return args


async def matches_invocations(body: dict[str, Any]) -> bool:
    """Bolt matcher: the ``/restate`` text starts with ``invocations``."""
    return is_invocations(str(body.get("text") or ""))


def invocations_command(deps: SlackDeps) -> Listener:
    """The listener for ``/restate invocations …``; Bolt injects its arguments by name."""

    async def invocations(
        ack: AsyncAck,
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        work = _readout(deps, command, client, respond)
        after_ack(deps.background, work, command, respond, name="triage-readout")

    return invocations


async def _readout(
    deps: SlackDeps,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    parsed = parse_invocations(str(command.get("text") or ""))
    channel = str(command["channel_id"])
    env = deps.env(parsed.environment, channel=channel)
    if parsed.form:  # no filter words: a form to build one
        choices = list(deps.environments) if deps.environments.several else []
        view = filter_modal(channel, env, choices)
        await client.views_open(trigger_id=command["trigger_id"], view=view)
        return
    actor = await deps.actor(command["user_id"], command.get("user_name"), env)
    attempt = Attempt(actor=actor, context={"channel": channel})
    await post_readout(deps, env, attempt, parsed.filter, client, respond)


async def post_readout(
    deps: SlackDeps,
    env: Environment,
    attempt: Attempt,
    args: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    """Query ``env``, then post the readout in the attempt's channel (buttons only if the bot
    is in it); its buttons act on ``env``."""
    channel = attempt.context["channel"]
    tag = deps.tag(env)
    async with naming_environment(tag):
        readout = await env.require_triage().query(attempt, {**args, "shown": SHOWN})
    filter_json = json.dumps(args, separators=(",", ":"), sort_keys=True)
    now = iso_utc(datetime.now(UTC))

    def render(threaded: bool) -> Rendered:
        return readout_message(
            readout, filter_json, attempt.actor.id, now, threaded=threaded, env=tag
        )

    if respond is None:  # from the modal: no response URL to fall back on
        message = render(True)
        await client.chat_postMessage(
            channel=channel, blocks=message.blocks, text=message.text, unfurl_links=False
        )
        return
    await post_to_channel(client, respond, channel, render)
