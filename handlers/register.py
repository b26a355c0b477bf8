"""Wire the Slack listeners to an app: one slash command, one button kind, one error handler."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from core.audit import AuditLog
from core.environments import Environments
from core.pending import PendingActions
from handlers.actions.details import show_details
from handlers.actions.run_pending import run_pending_action
from handlers.background import Background
from handlers.blocks.modals import CALLBACK as FORM_CALLBACK
from handlers.boundary import RedactingWebClient, RedactSlackIO
from handlers.commands.restate import restate_command
from handlers.deps import SlackDeps, group_members
from handlers.errors import error_handler
from handlers.home import home_opened
from handlers.ids import COMMAND, DETAILS_ACTION, RUN_ACTION
from handlers.payloads import RefuseOddPayloads
from handlers.triage_listeners import register_triage
from handlers.views.forms import form_submitted


def register_listeners(
    app: AsyncApp,
    *,
    environments: Environments,
    pending: PendingActions,
    audit: AuditLog,
    background: Background,
    runbook_url: str | None = None,
) -> SlackDeps:
    """Register every listener on ``app``, whose client must redact (``handlers.boundary``)."""
    if not isinstance(app.client, RedactingWebClient):
        raise TypeError("the Slack app's client must be a RedactingWebClient")
    deps = SlackDeps(
        environments,
        pending,
        audit,
        group_members(app.client),
        background,
        runbook_url=runbook_url,
    )
    app.middleware(RedactSlackIO(app.client))
    app.middleware(RefuseOddPayloads(background))
    if environments.default.triage is not None:  # first: its matcher takes `/restate invocations …`
        register_triage(app, deps)
    app.command(COMMAND)(restate_command(deps))
    app.action(RUN_ACTION)(run_pending_action(deps))
    app.action(DETAILS_ACTION)(show_details(deps))
    app.view(FORM_CALLBACK["recover"])(form_submitted(deps, "recover"))
    app.view(FORM_CALLBACK["cleanup"])(form_submitted(deps, "cleanup"))
    app.event("app_home_opened")(home_opened(deps))
    app.error(error_handler(background))
    return deps
