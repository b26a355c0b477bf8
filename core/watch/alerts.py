"""What the watcher asks a surface to post, and the port the surface implements (Slack today).

The engine decides *when* (once per alert and channel, edits on a changed count, one resolved
note); the notifier decides *how* it looks. Alerts carry the doctor's own advice for their target,
so their buttons run the same confirm / authorize / audit / verify path as doctor's; paused and
backing-off alerts also carry triage fixes (``core.watch.fixes``), which open triage's preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.audit import AttemptView
from core.models import WRITE_ROUTES, Advice, DoctorReport
from core.watch.catalog import HINTS, TITLES, RuleName, counted
from core.watch.fixes import TriageFix

#: The audited route of a bulk triage run (``core.triage.service``): a write too.
BULK_RUN = "invocations-execute"
#: The attempts a resolved note may name as the last action.
ACTION_ROUTES: frozenset[str] = WRITE_ROUTES | {BULK_RUN}
SHORT_ROUTE = {
    "force-redeploy": "redeploy",
    "cleanup-stale-deployments": "cleanup",
    "recover-stuck-workflow": "recover",
}


@dataclass(frozen=True)
class AlertView:
    """One open alert as a channel sees it."""

    key: str
    rule: RuleName
    target: str
    count: int
    summary: str
    opened_at: datetime
    checked_at: datetime
    advice: list[Advice]
    #: The readout the alert (and its buttons) came from; verify diffs against it.
    report: DoctorReport
    #: The count the channel saw last, on an update.
    previous_count: int | None = None
    #: Bulk triage actions on the invocations it counts (``core.watch.fixes``).
    fixes: list[TriageFix] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.rule]

    @property
    def hint(self) -> str:
        return HINTS[self.rule]


@dataclass(frozen=True)
class LastAction:
    route: str
    actor_id: str
    surface: str
    outcome: str
    #: What a bulk triage run did (``resume of 3 invocations``); None for the guide's writes.
    what: str | None = None

    @property
    def name(self) -> str:
        return self.what or SHORT_ROUTE.get(self.route, self.route)


@dataclass(frozen=True)
class ResolvedView:
    key: str
    rule: RuleName
    target: str
    summary: str
    opened_at: datetime
    resolved_at: datetime
    last_action: LastAction | None

    @property
    def title(self) -> str:
        return TITLES[self.rule]

    @property
    def minutes_open(self) -> int:
        return max(round((self.resolved_at - self.opened_at).total_seconds() / 60), 0)


class NotifyFailed(Exception):
    """The surface could not post or edit; the engine tries again on the next check."""


class AlertNotifier(Protocol):
    """Posts alerts into a channel. Raises on failure; the engine retries on the next check."""

    async def post(self, channel: str, alert: AlertView, *, delivery: str) -> str:
        """Post a new alert message carrying ``delivery``; return its id (Slack's ts)."""

    async def find(
        self, channel: str, alert_key: str, delivery: str, claimed_at: datetime
    ) -> str | None:
        """The id of the message posted with ``delivery`` soon after ``claimed_at``, if any.

        None when there is none, or when the surface cannot look at all (then the caller posts
        again: a possible duplicate beats a lost alert); raises ``NotifyFailed`` when it could
        not tell this time.
        """

    async def update(self, channel: str, ts: str, alert: AlertView, *, announce: bool) -> None:
        """Edit the alert in place; with ``announce``, also say what changed in its thread."""

    async def resolve(self, channel: str, ts: str, resolved: ResolvedView) -> None:
        """Mark the alert resolved and post the resolved note in its thread."""


def relevant_advice(rule: str, target: str, advice: Sequence[Advice]) -> list[Advice]:
    """The doctor advice that concerns this alert's target (all of it for component alerts).

    Service alerts get the advice naming that service; deployment alerts get deployment advice.
    """
    if rule == "component" or rule == "version":
        return list(advice)
    if rule in ("zombies", "draining"):
        return [a for a in advice if a.kind in ("force-redeploy", "cleanup-stale-deployments")]
    return [a for a in advice if a.args.get("serviceName") == target or _inspects(a, target)]


def _inspects(advice: Advice, service: str) -> bool:
    """An inspect advice's title names ``<status> <service>/<key>/<handler>``."""
    return advice.kind == "inspect" and f" {service}/" in advice.title


def last_action(
    views: Sequence[AttemptView], *, since: datetime, channel: str, ts: str | None
) -> LastAction | None:
    """The newest write attempted since the alert opened: from its own message (or its thread,
    where a triage preview's Run is clicked) first, else any."""
    writes = [
        view
        for view in views
        if view.start.route in ACTION_ROUTES and view.start.started_at >= since
    ]
    here = [v for v in writes if _on_message(v, channel, ts)]
    for view in (here or writes)[:1]:
        start = view.start
        return LastAction(
            start.route, start.actor.id, start.actor.surface, view.outcome, _bulk_what(view)
        )
    return None


def _on_message(view: AttemptView, channel: str, ts: str | None) -> bool:
    context = view.start.context
    return context.get("channel") == channel and ts in (
        context.get("message_ts"),
        context.get("thread_ts"),
    )


def _bulk_what(view: AttemptView) -> str | None:
    """``resume of 3 invocations`` for a bulk triage run, from its audited start."""
    if view.start.route != BULK_RUN:
        return None
    action = str(view.start.args.get("action") or "bulk action")
    ids = view.start.args.get("invocationIds")
    return f"{action} of {counted(len(ids), 'invocation')}" if isinstance(ids, list) else action
