"""A click on a write button: ack, then authorize the clicker, act once, report, verify.

1. ack (nothing else is on the path of Slack's answer); then, in the background:
2. authorize the user who clicked against the allowlist of the environment the button's action
   was offered in (a denial is audited by the core under that environment and changes nothing,
   and the one-time action stays available to an operator);
3. claim the pending action in that environment's key space only (once, atomically across
   replicas: an expired or used id, or one altered to name another environment, is refused);
4. replace the buttons with "⏳ … confirmed by @user" (cosmetic: a Slack failure here is logged);
5. run the core operation; 6. post the outcome; 7. run doctor again and post what changed;
8. rebuild the message from that readout: its verdict as the header, which action ran, by whom,
   with what result, and the actions still valid as fresh one-time buttons (without a readout:
   mark the header ✅ or ❌).

Once claimed, the action runs whatever Slack does: steps 4 and 6-8 report through whichever
channel still works (``ClickedMessage``), and a failed report skips neither verify nor the header.
Steps 5-8 use that environment's use cases only: its Restate, its audit entries, its doctor.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.approvals import ClaimedWrite, claim_write
from core.environments import Environment
from core.errors import OpsError
from core.operations import Attempt, DoctorResult
from core.pending import PendingAction
from core.report_diff import describe_changes
from handlers.actions.clicked import ClickedMessage
from handlers.blocks.environment import EnvTag
from handlers.blocks.errors import internal_error_message
from handlers.blocks.outcome import (
    blocked_words,
    failure_message,
    outcome_summary,
    success_message,
)
from handlers.blocks.progress import (
    after_action_message,
    finish_blocks,
    header_text,
    lock_blocks,
    status_line,
)
from handlers.blocks.verify import verify_message
from handlers.deps import Listener, SlackDeps
from handlers.errors import acked_click, naming_environment
from handlers.offering import offer_writes
from handlers.payloads import ButtonClick

log = logging.getLogger(__name__)


def run_pending_action(deps: SlackDeps) -> Listener:
    """The listener for every write button; Bolt injects its arguments by name."""

    return acked_click(
        deps.background,
        "slack-click",
        lambda body, action, client, respond: _handle(deps, body, action, client, respond),
    )


async def _handle(
    deps: SlackDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    click = ButtonClick.from_payload(body, action)
    clicked = ClickedMessage.from_body(body, action, client, respond)
    context = {
        "channel": clicked.channel,
        "message_ts": clicked.ts,
        "pending_action": click.pending_id,
    }
    # The environment the action was offered in; an unknown name (a forged value) is refused.
    env = deps.env(click.environment)
    tag = deps.tag(env)
    actor = await deps.actor(click.user_id, click.user_name, env)
    check = Attempt(actor=actor, context=context)
    async with naming_environment(tag):
        # Before the claim: a visitor's click must not use up the operator's one-time button.
        await env.operations.authorize(check, click.route)
        # Once; under the two-person rule the requester is refused and a second operator approves.
        claimed = await claim_write(
            env.operations, deps.pending, check, click.route, click.pending_id, env.name
        )
    pending = claimed.action
    # Claimed: from here on the operation runs and is verified whatever Slack answers.
    title = pending.context.get("title") or pending.route
    locked = lock_blocks(clicked.blocks, title, click.user_id)
    await clicked.replace(locked, f"⏳ {tag.prefix}{title} confirmed, running…")
    if pending.origin_request_id:
        context["origin_request_id"] = pending.origin_request_id
    attempt = Attempt(actor=actor, reason=pending.context.get("reason"), context=context)
    ok, result = await _run(env, tag, attempt, claimed, clicked, title)
    fresh = await _verify(env, tag, Attempt(actor=actor, context=context), pending, clicked, title)
    status = status_line(title, click.user_id, ok=ok, result=result, threaded=clicked.threaded)
    if fresh is None:
        finished = finish_blocks(
            locked, title, click.user_id, ok=ok, threaded=clicked.threaded, result=result, env=tag
        )
        await clicked.replace(finished, header_text(title, ok, tag))
        return
    # The actions still valid against the fresh readout, as new one-time buttons.
    offers, offers_error = await offer_writes(
        deps.pending,
        fresh.advice,
        environment=env.name,
        offered_to=click.user_id,
        context={"channel": clicked.channel},
        origin_request_id=fresh.request_id,
        baseline=fresh.report,
    )
    message = after_action_message(
        fresh,
        offers,
        status=status,
        threaded=clicked.threaded,
        links=deps.links(env),
        offers_error=offers_error,
        env=tag,
    )
    await clicked.replace(message.block_dicts(), message.text)


async def _run(
    env: Environment,
    tag: EnvTag,
    attempt: Attempt,
    claimed: ClaimedWrite,
    clicked: ClickedMessage,
    title: str,
) -> tuple[bool, str]:
    """Run the stored write on ``env``; post what was done (or the error) under the message.

    Returns whether it succeeded and what it did, in words, for the message's status line.
    """
    pending = claimed.action
    try:
        result = await env.operations.execute(
            attempt,
            pending.route,
            pending.args,
            expected=pending.plan,
            approval=claimed.approval,
        )
    except OpsError as exc:  # the outcome of the operation, reported where it was asked for
        await clicked.reply(failure_message(title, exc, attempt.actor.id, tag))
        return False, blocked_words(exc)
    except Exception:  # a claimed action is reported and verified even when it crashed
        log.exception("%s crashed (request %s)", pending.route, attempt.request_id)
        await clicked.reply(internal_error_message(attempt.request_id))
        return False, f"crashed inside restate-ops (request {attempt.request_id})"
    await clicked.reply(success_message(title, result, pending.args, attempt.actor.id, tag))
    return True, outcome_summary(result)


async def _verify(
    env: Environment,
    tag: EnvTag,
    attempt: Attempt,
    pending: PendingAction,
    clicked: ClickedMessage,
    title: str,
) -> DoctorResult | None:
    """Doctor again on ``env``, with what changed against the readout the action came from."""
    try:
        result = await env.operations.doctor(attempt)
    except OpsError as exc:
        await clicked.reply(failure_message(f"Verify after {title}", exc, attempt.actor.id, tag))
        return None
    changes = describe_changes(pending.baseline, result.report) if pending.baseline else None
    await clicked.reply(verify_message(result, changes, action=title, env=tag))
    return result
