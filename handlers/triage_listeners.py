"""Register the triage listeners (``/restate invocations`` and its buttons) on a Bolt app.

Called by ``handlers.register.register_listeners`` before the general ``/restate`` listener, so the
``invocations`` matcher sees the command first. One set of listeners serves every environment:
each request resolves its own (the command's ``env=`` or channel, the button's stored one).
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from handlers.actions.triage import preview_clicked, run_clicked, stop_clicked
from handlers.blocks.triage import APPROVE_ACTION, PREVIEW_ACTION_PREFIX, RUN_ACTION, STOP_ACTION
from handlers.blocks.triage_filter import FILTER_VIEW
from handlers.commands.invocations import invocations_command, matches_invocations
from handlers.deps import SlackDeps
from handlers.ids import COMMAND
from handlers.views.triage import filter_submitted


def register_triage(app: AsyncApp, deps: SlackDeps) -> None:
    app.command(COMMAND, matchers=[matches_invocations])(invocations_command(deps))
    app.action(re.compile(rf"^{re.escape(PREVIEW_ACTION_PREFIX)}"))(preview_clicked(deps))
    app.action(RUN_ACTION)(run_clicked(deps, approve=False))
    app.action(APPROVE_ACTION)(run_clicked(deps, approve=True))
    app.action(STOP_ACTION)(stop_clicked(deps))
    app.view(FILTER_VIEW)(filter_submitted(deps))
