"""The triage filter form's submission: check the filter, close the form, post the readout.

The filter and the environment are validated before ``ack()`` (pure and quick), so a bad value
is shown on its field in the still-open form (``response_action: errors``); the query runs after
the ack, on the environment the form carries (chosen in it, else the one it was opened for).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.errors import InvalidInput
from core.models import parse_request
from core.operations import Attempt
from core.triage.filter import TriageFilter
from handlers.blocks.triage_filter import (
    ENVIRONMENT_BLOCK,
    MODAL_FIELDS,
    modal_filter,
    modal_target,
)
from handlers.commands.invocations import post_readout
from handlers.deps import Listener, SlackDeps
from handlers.errors import after_ack

_BLOCK_OF = {
    "environment": ENVIRONMENT_BLOCK,
    **{field: block for block, field in MODAL_FIELDS.items()},
}


def filter_submitted(deps: SlackDeps) -> Listener:
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = ((view.get("state") or {}).get("values")) or {}
        args = modal_filter(values)
        name, channel = modal_target(str(view.get("private_metadata") or ""), values)
        try:
            env = deps.env(name)
            parse_request(TriageFilter, args)
        except InvalidInput as exc:
            block = _BLOCK_OF.get(exc.field.split(".")[0], "triage.service")
            await ack(response_action="errors", errors={block: exc.rule[:150]})
            return
        await ack()
        user = body.get("user") or {}
        work = _readout(deps, env, args, channel, user, client)
        after_ack(deps.background, work, body, None, name="triage-modal")

    return submitted


async def _readout(
    deps: SlackDeps,
    env: Environment,
    args: dict[str, Any],
    channel: str,
    user: dict[str, Any],
    client: AsyncWebClient,
) -> None:
    actor = await deps.actor(str(user.get("id")), user.get("username") or user.get("name"), env)
    attempt = Attempt(actor=actor, context={"channel": channel})
    await post_readout(deps, env, attempt, args, client, None)
