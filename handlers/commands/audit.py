"""``/restate audit [n]``: the latest attempts, ephemeral, operators only."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt.context.respond.async_respond import AsyncRespond

from core.authz import can_operate
from core.errors import PermissionRequired
from core.operations import Attempt
from handlers.blocks.audit import audit_message
from handlers.deps import SlackDeps
from handlers.messages import reply_ephemeral


async def show_audit(deps: SlackDeps, attempt: Attempt, count: int, respond: AsyncRespond) -> None:
    if not can_operate(attempt.actor.role):
        error = PermissionRequired(f"{attempt.actor.id} may not read the audit log.")
        raise error.with_request_id(attempt.request_id)
    views = await deps.audit.latest(count)
    await reply_ephemeral(respond, audit_message(views, datetime.now(UTC)))
