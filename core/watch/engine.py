"""One watch check: lead or stand by; read; evaluate; step the hysteresis; save; deliver.

Delivery reconciles Redis with the channels instead of replaying transitions, so a new leader,
a restarted process or a snooze that ended all converge on the same result: every open alert has
exactly one message in every subscribed (and not snoozed) channel, edited when its count changes;
every message of an alert that is no longer open gets its resolved note once.

A post is claimed in Redis (fenced by the lease) before Slack is called, and its ts is stored
right after, so no replica or restart posts it again. The one gap: a leader that dies between
Slack's answer and storing the ts leaves a claim without ts, which the next leader posts again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from core.advice import advise
from core.audit import AuditLog
from core.errors import AuditUnavailable
from core.models import Advice
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.watch.alerts import (
    AlertNotifier,
    AlertView,
    NotifyFailed,
    ResolvedView,
    last_action,
    relevant_advice,
)
from core.watch.hysteresis import AlertState, step
from core.watch.lease import LeaderLease, Leadership
from core.watch.probe import WatchReadout, read_watch
from core.watch.rules import Thresholds, evaluate
from core.watch.store import ALL_RULES, PostedMessage, WatchStore, message_field

log = logging.getLogger(__name__)

#: How many audit entries the resolved note looks through for the last action.
AUDIT_LOOKBACK = 100


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WatchConfig:
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: Consecutive checks a condition must hold to open an alert, and be absent to resolve it.
    hold: int = 2
    clear: int = 2
    probe_timeout_s: float = 5.0
    live_service_url: str | None = None
    #: Re-offer an open alert's buttons this often (they expire with the pending actions).
    offer_refresh: timedelta = timedelta(minutes=7, seconds=30)


@dataclass(frozen=True)
class CheckResult:
    """What one check did; ``readout`` is None when this replica was not the leader."""

    leader: bool
    seconds: float
    readout: WatchReadout | None = None
    open_by_rule: dict[str, int] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


class Watch:
    def __init__(
        self,
        *,
        admin: RestateAdminClient,
        ingress: RestateIngressClient | None,
        store: WatchStore,
        lease: LeaderLease,
        audit: AuditLog,
        notifier: AlertNotifier | None,
        config: WatchConfig,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._admin = admin
        self._ingress = ingress
        self._store = store
        self._lease = lease
        self._audit = audit
        self._notifier = notifier
        self._config = config
        self._now = now
        self._leadership: Leadership | None = None

    @property
    def leadership(self) -> Leadership | None:
        return self._leadership

    async def check(self) -> CheckResult:
        """One check; a replica that does not hold the lease only tries to take it."""
        started = time.monotonic()
        self._leadership = leadership = await self._lease.acquire()
        if leadership is None:
            return CheckResult(leader=False, seconds=time.monotonic() - started)
        now = self._now()
        thresholds = self._config.thresholds
        readout = await read_watch(
            self._admin,
            self._ingress,
            now=now,
            failure_window=thresholds.failure_window,
            backing_off=thresholds.backing_off,
            probe_timeout_s=self._config.probe_timeout_s,
        )
        evaluation = evaluate(readout, thresholds, await self._store.memory(), now)
        stepped = step(
            await self._store.alerts(),
            evaluation,
            now,
            hold=self._config.hold,
            clear=self._config.clear,
        )
        if not await self._store.save(leadership, stepped.states, evaluation.memory, now):
            log.warning("watch: lost the lease during a check; standing by")
            self._leadership = None
            return CheckResult(leader=False, seconds=time.monotonic() - started)
        if self._notifier is not None:
            await self._deliver(self._notifier, leadership, stepped.states, readout, now)
        open_by_rule: dict[str, int] = {}
        for state in stepped.states.values():
            if state.status == "open":
                open_by_rule[state.rule] = open_by_rule.get(state.rule, 0) + 1
        return CheckResult(
            leader=True,
            seconds=time.monotonic() - started,
            readout=readout,
            open_by_rule=open_by_rule,
            opened=[s.key for s in stepped.opened],
            resolved=[s.key for s in stepped.resolved],
        )

    async def release(self) -> None:
        """Give up the lease (at shutdown), so another replica takes over at once."""
        if self._leadership is not None:
            await self._lease.release(self._leadership)
            self._leadership = None

    # --- delivery -------------------------------------------------------------------------

    async def _deliver(
        self,
        notifier: AlertNotifier,
        leadership: Leadership,
        states: dict[str, AlertState],
        readout: WatchReadout,
        now: datetime,
    ) -> None:
        opened = {key: s for key, s in states.items() if s.status == "open"}
        messages = {m.field: m for m in await self._store.messages()}
        for message in messages.values():
            resolved = message.alert_key not in opened
            if resolved and not await self._resolve(notifier, leadership, message, now):
                return
        advice = advise(readout.report, live_service_url=self._config.live_service_url)
        for channel in await self._store.channels():
            snoozed = await self._store.snoozes(channel, now)
            for key, state in opened.items():
                muted = ALL_RULES in snoozed or state.rule in snoozed
                view = self._view(state, readout, advice, now)
                posted = messages.get(message_field(key, channel))
                if posted is None or posted.ts is None:
                    if not muted:
                        await self._post(notifier, leadership, channel, view, now)
                elif not await self._refresh(notifier, leadership, posted, view, muted, now):
                    return

    def _view(
        self, state: AlertState, readout: WatchReadout, advice: list[Advice], now: datetime
    ) -> AlertView:
        return AlertView(
            key=state.key,
            rule=state.rule,
            target=state.target,
            count=state.count,
            summary=state.summary,
            opened_at=state.opened_at or now,
            checked_at=now,
            advice=relevant_advice(state.rule, state.target, advice),
            report=readout.report,
        )

    async def _post(
        self,
        notifier: AlertNotifier,
        leadership: Leadership,
        channel: str,
        view: AlertView,
        now: datetime,
    ) -> None:
        record = PostedMessage(
            alert_key=view.key,
            channel=channel,
            fence=leadership.fence,
            rule=view.rule,
            target=view.target,
            count=view.count,
            summary=view.summary,
            opened_at=view.opened_at,
            offered_at=now,
        )
        if not await self._store.claim(leadership, record):
            return  # posted already, or this replica is no longer the leader
        try:
            ts = await notifier.post(channel, view)
        except NotifyFailed as exc:
            log.warning("watch: could not post %s in %s: %s", view.key, channel, exc)
            await self._store.forget(leadership, record)
            return
        await self._store.posted(record.model_copy(update={"ts": ts}))

    async def _refresh(
        self,
        notifier: AlertNotifier,
        leadership: Leadership,
        message: PostedMessage,
        view: AlertView,
        muted: bool,
        now: datetime,
    ) -> bool:
        """Edit the message when the count changed or its buttons are getting old."""
        changed = message.count != view.count
        if not changed and now - message.offered_at < self._config.offer_refresh:
            return True
        if not await self._lease.holds(leadership):
            return False
        assert message.ts is not None  # callers only refresh posted messages
        shown = replace(view, previous_count=message.count)
        announce = changed and not muted
        try:
            await notifier.update(message.channel, message.ts, shown, announce=announce)
        except NotifyFailed as exc:
            log.warning("watch: could not update %s: %s", message.field, exc)
            return True
        update = {"count": view.count, "summary": view.summary, "offered_at": now}
        return await self._store.update(leadership, message.model_copy(update=update))

    async def _resolve(
        self, notifier: AlertNotifier, leadership: Leadership, message: PostedMessage, now: datetime
    ) -> bool:
        if message.ts is None:  # claimed by a leader that died before posting: nothing to close
            return await self._store.forget(leadership, message)
        if not await self._lease.holds(leadership):
            return False
        try:
            views = await self._audit.latest(AUDIT_LOOKBACK)
        except AuditUnavailable:
            views = []
        resolved = ResolvedView(
            key=message.alert_key,
            rule=message.rule,
            target=message.target,
            summary=message.summary,
            opened_at=message.opened_at,
            resolved_at=now,
            last_action=last_action(
                views, since=message.opened_at, channel=message.channel, ts=message.ts
            ),
        )
        try:
            await notifier.resolve(message.channel, message.ts, resolved)
        except NotifyFailed as exc:
            log.warning("watch: could not resolve %s: %s", message.field, exc)
            return True
        return await self._store.forget(leadership, message)
