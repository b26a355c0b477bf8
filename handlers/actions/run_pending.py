"""A click on a write button: authorize the clicker, lock the message, act once, verify.

1. ack; 2. authorize the user who clicked (a denial is audited by the core and changes nothing);
3. claim the pending action (once: an expired or used id is refused) and replace the buttons with
"⏳ … confirmed by @user"; 4. run the core operation; 5. post the outcome in the thread;
6. run doctor again and post the verify readout with what changed; 7. mark the header ✅ or ❌.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import OpsError
from core.operations import Attempt
from core.pending import PendingAction
from core.report_diff import describe_changes
from handlers.actions.clicked import ClickedMessage
from handlers.blocks.outcome import failure_message, success_message
from handlers.blocks.progress import finish_blocks, header_text, lock_blocks
from handlers.blocks.verify import verify_message
from handlers.deps import Listener, SlackDeps
from handlers.ids import route_of


def run_pending_action(deps: SlackDeps) -> Listener:
    """The listener for every write button; Bolt injects its arguments by name."""

    async def run_pending(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        user = body.get("user") or {}
        user_id = str(user.get("id"))
        clicked = ClickedMessage.from_body(body, action, client, respond)
        pending_id = str(action.get("value") or "")
        context = {
            "channel": clicked.channel,
            "message_ts": clicked.ts,
            "pending_action": pending_id,
        }
        actor = await deps.actor(user_id, user.get("username") or user.get("name"))
        # Before the claim: a visitor's click must not use up the operator's one-time button.
        await deps.operations.authorize(
            Attempt(actor=actor, context=context), route_of(str(action.get("action_id")))
        )
        pending = await deps.pending.claim(pending_id)
        title = pending.context.get("title") or pending.route
        locked = lock_blocks(clicked.blocks, title, user_id)
        await clicked.replace(locked, f"⏳ {title} confirmed, running…")
        if pending.origin_request_id:
            context["origin_request_id"] = pending.origin_request_id
        attempt = Attempt(actor=actor, reason=pending.context.get("reason"), context=context)
        ok = await _run(deps, attempt, pending, clicked, title)
        await _verify(deps, Attempt(actor=actor, context=context), pending, clicked, title)
        finished = finish_blocks(locked, title, user_id, ok=ok, threaded=clicked.threaded)
        await clicked.replace(finished, header_text(title, ok))

    return run_pending


async def _run(
    deps: SlackDeps, attempt: Attempt, pending: PendingAction, clicked: ClickedMessage, title: str
) -> bool:
    """Run the stored write; post what was done (or the error) under the message."""
    try:
        result = await deps.operations.execute(attempt, pending.route, pending.args)
    except OpsError as exc:  # the outcome of the operation, reported where it was asked for
        await clicked.reply(failure_message(title, exc, attempt.actor.id))
        return False
    await clicked.reply(success_message(title, result, pending.args, attempt.actor.id))
    return True


async def _verify(
    deps: SlackDeps, attempt: Attempt, pending: PendingAction, clicked: ClickedMessage, title: str
) -> None:
    """Doctor again, by itself, with what changed against the readout the action came from."""
    try:
        result = await deps.operations.doctor(attempt)
    except OpsError as exc:
        await clicked.reply(failure_message(f"Verify after {title}", exc, attempt.actor.id))
        return
    changes = describe_changes(pending.baseline, result.report) if pending.baseline else None
    await clicked.reply(verify_message(result, changes, action=title))
