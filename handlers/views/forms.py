"""The recover and cleanup forms: opened by the command, submitted as a typed write would be.

Opening: a loading view at once with the command's trigger (it expires in 3 s), then doctor, then
the form with the choices it found (``views.update``). Submitting: a missing choice is shown on
its field before the ack (the form stays open); otherwise ack (the form closes) and post the
same preview and confirm button as ``/restate recover <name> <key>`` in the channel. Refusals
(a denied user, a core error) are answered to the user privately in that channel.

The form carries its environment in ``private_metadata``: on submit it must still name a
configured environment, and the submitter is checked against that environment's allowlist (the
preview authorizes); who opened the form grants nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.errors import OpsError
from core.ids import new_request_id
from core.models import Route
from core.operations import Attempt
from handlers.blocks.errors import error_message
from handlers.blocks.modals import (
    CHOICE_BLOCK,
    FormKind,
    Submitted,
    cleanup_choices,
    fit_choices,
    form_view,
    loading_view,
    recover_choices,
    submitted,
)
from handlers.commands.parse import WriteCommand
from handlers.commands.preview import post_preview
from handlers.deps import Listener, SlackDeps
from handlers.errors import after_ack, naming_environment, render_error

_ROUTE: dict[FormKind, Route] = {
    "recover": "recover-stuck-workflow",
    "cleanup": "cleanup-stale-deployments",
}


async def open_form(
    deps: SlackDeps,
    env: Environment,
    attempt: Attempt,
    kind: FormKind,
    *,
    trigger_id: str,
    channel: str,
    client: AsyncWebClient,
) -> None:
    """Open the form at once, then fill it with the choices of a fresh readout of ``env``."""
    tag = deps.tag(env)
    opened = await client.views_open(trigger_id=trigger_id, view=loading_view(kind, channel, tag))
    view_id = str((opened.get("view") or {}).get("id"))
    try:
        async with naming_environment(tag):
            result = await env.operations.doctor(attempt)
    except OpsError as exc:
        failed = error_message(exc)
        await client.views_update(
            view_id=view_id,
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "restate-ops"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": failed.block_dicts(),
            },
        )
        raise
    report = result.report
    choices = recover_choices(report) if kind == "recover" else cleanup_choices(report)
    state = fit_choices(channel, choices, env.name)
    await client.views_update(view_id=view_id, view=form_view(kind, state, report, tag))


def form_submitted(deps: SlackDeps, kind: FormKind) -> Listener:
    """The ``view_submission`` listener of one form; Bolt injects its arguments by name."""

    async def submit(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        try:
            form = submitted(kind, view)
        except ValueError:
            await ack(response_action="errors", errors={CHOICE_BLOCK: "Choose one of the list."})
            return
        await ack()
        user = body.get("user")
        work = _preview(deps, form, user if isinstance(user, dict) else {}, client, context)
        after_ack(deps.background, work, body, None, name="slack-form")

    return submit


async def _preview(
    deps: SlackDeps,
    form: Submitted,
    user: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    user_id, channel = str(user.get("id") or ""), form.channel
    name = user.get("username") or user.get("name")
    command = WriteCommand(form.kind, _ROUTE[form.kind], form.args, form.reason or None)
    try:
        env = deps.env(form.environment)  # still configured? (InvalidInput otherwise)
        actor = await deps.actor(user_id, name if isinstance(name, str) else None, env)
        attempt = Attempt(actor=actor, reason=command.reason, context={"channel": channel})
        async with naming_environment(deps.tag(env)):
            await post_preview(
                deps,
                env,
                attempt,
                command,
                channel=channel,
                client=client,
                respond=AsyncRespond(response_url=None),
                bot_user_id=context.bot_user_id,
            )
    except Exception as exc:  # no response URL here: the refusal goes to the user privately
        shown = render_error(exc, {}, new_request_id())
        await client.chat_postEphemeral(
            channel=channel, user=user_id, blocks=shown.blocks, text=shown.text
        )
        if not isinstance(exc, OpsError):
            raise
