"""Wire the Slack listeners to an app: one slash command, one button kind, one error handler."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from core.audit import AuditLog
from core.authz import Allowlist
from core.operations import Operations
from core.pending import PendingActions
from handlers.actions.run_pending import run_pending_action
from handlers.commands.restate import restate_command
from handlers.deps import SlackDeps, group_members
from handlers.errors import handle_error
from handlers.ids import COMMAND, RUN_ACTION


def register_listeners(
    app: AsyncApp,
    *,
    operations: Operations,
    pending: PendingActions,
    audit: AuditLog,
    allowlist: Allowlist,
) -> SlackDeps:
    """Register every listener on ``app``; group lookups use the app's own Web API client."""
    deps = SlackDeps(operations, pending, audit, allowlist, group_members(app.client))
    app.command(COMMAND)(restate_command(deps))
    app.action(RUN_ACTION)(run_pending_action(deps))
    app.error(handle_error)
    return deps
