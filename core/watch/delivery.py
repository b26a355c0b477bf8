"""Delivery: make the channels show what Redis says is open, once per alert and channel.

It reconciles instead of replaying transitions, so a new leader, a restarted process or a
snooze that ended all converge on the same result: every open alert has exactly one message in
every subscribed (and not snoozed) channel, edited when its count changes (with a note in its
thread) or when its buttons get old; every message of an alert that is no longer open gets its
resolved note once.

A post is claimed in Redis (fenced by the lease) before Slack is called, and its ts is stored
right after, so no replica or restart posts it again. The claim records a delivery id, which the
post carries (Slack message metadata), and its time: a leader that died between Slack's answer
and storing the ts leaves a claim without ts, and the next leader looks the message up by that id
before it posts. It adopts the message it finds (and edits or resolves it from then on); only
when there is none does it post. A lookup that fails this time is tried again on the next check.
A leader that only stalled mid-post and answers after its claim was taken over cannot point the
record at its late message (``WatchStore.posted`` keeps the newer delivery): that message is a
duplicate, logged, and the one gap left (a Slack post cannot be fenced).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from core.advice import advise
from core.audit import AuditLog
from core.errors import AuditUnavailable
from core.ids import new_id
from core.models import Advice
from core.watch.alerts import (
    AlertNotifier,
    AlertView,
    NotifyFailed,
    ResolvedView,
    last_action,
    relevant_advice,
)
from core.watch.catalog import Thresholds
from core.watch.fixes import triage_fixes
from core.watch.hysteresis import AlertState
from core.watch.lease import LeaderLease, Leadership
from core.watch.probe import WatchReadout
from core.watch.store import ALL_RULES, PostedMessage, WatchStore, message_field

log = logging.getLogger(__name__)

DEFAULT_BACKING_OFF = Thresholds().backing_off
#: How many audit entries the resolved note looks through for the last action.
AUDIT_LOOKBACK = 100


class Delivery:
    def __init__(
        self,
        store: WatchStore,
        lease: LeaderLease,
        audit: AuditLog,
        notifier: AlertNotifier,
        live_service_url: str | None,
        offer_refresh: timedelta,
        note_every: timedelta,
        *,
        backing_off: timedelta = DEFAULT_BACKING_OFF,
    ) -> None:
        self._store = store
        self._lease = lease
        self._audit = audit
        self._notifier = notifier
        self._live_service_url = live_service_url
        self._offer_refresh = offer_refresh
        self._note_every = note_every
        #: The backing-off rule's threshold: its fixes select the runs older than it.
        self._backing_off = backing_off

    async def deliver(
        self,
        leadership: Leadership,
        states: dict[str, AlertState],
        readout: WatchReadout,
        now: datetime,
    ) -> None:
        opened = {key: s for key, s in states.items() if s.status == "open"}
        messages = {m.field: m for m in await self._store.messages()}
        for message in messages.values():
            resolved = message.alert_key not in opened
            if resolved and not await self._resolve(leadership, message, now):
                return
        advice = advise(readout.report, live_service_url=self._live_service_url)
        for channel in await self._store.channels():
            snoozed = await self._store.snoozes(channel, now)
            for key, state in opened.items():
                muted = ALL_RULES in snoozed or state.rule in snoozed
                view = self._view(state, readout, advice, now)
                posted = messages.get(message_field(key, channel))
                if posted is None or posted.ts is None:
                    if not muted and not await self._adopted(leadership, posted):
                        await self._post(leadership, channel, view, now)
                elif not await self._refresh(leadership, posted, view, muted, now):
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
            fixes=triage_fixes(state.rule, state.target, backing_off=self._backing_off),
        )

    async def _post(
        self,
        leadership: Leadership,
        channel: str,
        view: AlertView,
        now: datetime,
    ) -> None:
        delivery = new_id("dlv")
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
            noted_count=view.count,
            noted_at=now,
            delivery=delivery,
            claimed_at=now,
        )
        if not await self._store.claim(leadership, record):
            return  # posted already, or this replica is no longer the leader
        try:
            ts = await self._notifier.post(channel, view, delivery=delivery)
        except NotifyFailed as exc:
            log.warning("watch: could not post %s in %s: %s", view.key, channel, exc)
            await self._store.forget(leadership, record)
            return
        if not await self._store.posted(record.model_copy(update={"ts": ts})):
            log.warning(
                "watch: %s was taken over while posting; %s in %s is a duplicate",
                view.key,
                ts,
                channel,
            )

    async def _refresh(
        self,
        leadership: Leadership,
        message: PostedMessage,
        view: AlertView,
        muted: bool,
        now: datetime,
    ) -> bool:
        """Edit the message when the count changed or its buttons are getting old; note a new
        count in the thread at most once per ``note_every`` (the message is always current)."""
        changed = message.count != view.count
        note = (
            not muted
            and view.count != message.noted_count
            and now - message.noted_at >= self._note_every
        )
        if not (changed or note or now - message.offered_at >= self._offer_refresh):
            return True
        if not await self._lease.renew(leadership):
            return False
        assert message.ts is not None  # callers only refresh posted messages
        shown = replace(view, previous_count=message.noted_count)
        try:
            await self._notifier.update(message.channel, message.ts, shown, announce=note)
        except NotifyFailed as exc:
            log.warning("watch: could not update %s: %s", message.field, exc)
            return True
        update: dict[str, object] = {
            "count": view.count,
            "summary": view.summary,
            "offered_at": now,
        }
        if note:
            update |= {"noted_count": view.count, "noted_at": now}
        return await self._store.update(leadership, message.model_copy(update=update))

    async def _adopted(self, leadership: Leadership, claim: PostedMessage | None) -> bool:
        """True when nothing may be posted this check: the claim's post was found in the channel
        (it is adopted: its ts stored), or whether there is one cannot be told yet."""
        if claim is None:
            return False
        try:
            ts = await self._posted_ts(claim)
        except NotifyFailed as exc:
            log.warning("watch: could not look for the post of %s: %s", claim.field, exc)
            return True
        if ts is None:
            return False
        await self._store.update(leadership, claim.model_copy(update={"ts": ts}))
        log.warning(
            "watch: adopted %s, posted by a leader that died before storing it", claim.field
        )
        return True

    async def _posted_ts(self, claim: PostedMessage) -> str | None:
        """The ts of a claim's post if the channel has it; raises ``NotifyFailed``."""
        if claim.delivery is None or claim.claimed_at is None:
            return None  # claimed before posts carried a delivery id: nothing to look for
        return await self._notifier.find(
            claim.channel, claim.alert_key, claim.delivery, claim.claimed_at
        )

    async def _resolve(self, leadership: Leadership, message: PostedMessage, now: datetime) -> bool:
        ts = message.ts
        if ts is None:  # claimed by a leader that died: close what it posted, if anything
            try:
                ts = await self._posted_ts(message)
            except NotifyFailed as exc:
                log.warning("watch: could not look for the post of %s: %s", message.field, exc)
                return True  # the next check looks again
            if ts is None:
                return await self._store.forget(leadership, message)
        if not await self._lease.renew(leadership):
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
            last_action=last_action(views, since=message.opened_at, channel=message.channel, ts=ts),
        )
        try:
            await self._notifier.resolve(message.channel, ts, resolved)
        except NotifyFailed as exc:
            log.warning("watch: could not resolve %s: %s", message.field, exc)
            return True
        return await self._store.forget(leadership, message)
