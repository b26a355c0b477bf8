"""What operators do to the watch: subscribe a channel, unsubscribe it, snooze rules, look.

Operators only; every call is audited like an operation (start before the change, refused when
the audit store is down, finish after), with routes ``watch``, ``unwatch`` and ``snooze``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError

from core.audit import Actor, AttemptFinish, AttemptStart, AuditLog, Outcome
from core.authz import can_operate
from core.errors import (
    AuditUnavailable,
    InvalidInput,
    OpsError,
    PermissionRequired,
    WatchUnavailable,
)
from core.ids import new_id, new_request_id
from core.operations import utc_now
from core.watch.catalog import RULES, RuleName, Thresholds
from core.watch.hysteresis import AlertState
from core.watch.lease import LeaderLease
from core.watch.store import ALL_RULES, WatchStore

log = logging.getLogger(__name__)

MAX_SNOOZE = timedelta(days=7)


@dataclass(frozen=True)
class WatchStatus:
    """What ``/restate watch`` shows when the channel is already subscribed."""

    channel: str
    newly_subscribed: bool
    channels: list[str]
    rules: dict[RuleName, str]
    alerts: list[AlertState]
    snoozes: dict[str, datetime]
    checks: int
    last_check: datetime | None
    leader: str | None
    interval_s: float


class WatchControl:
    def __init__(
        self,
        *,
        store: WatchStore,
        lease: LeaderLease,
        audit: AuditLog,
        thresholds: Thresholds,
        interval_s: float,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._lease = lease
        self._audit = audit
        self._thresholds = thresholds
        self._interval_s = interval_s
        self._now = now

    async def watch(self, actor: Actor, channel: str, request_id: str | None = None) -> WatchStatus:
        """Subscribe ``channel`` (no-op when it is); return what is watched and the state."""
        async with self._attempt(actor, "watch", {"channel": channel}, channel, request_id):
            added = await self._store.subscribe(channel)
        return await self.status(channel, newly_subscribed=added)

    async def unwatch(self, actor: Actor, channel: str, request_id: str | None = None) -> bool:
        """Unsubscribe; its alert messages are left as they are and never edited again."""
        async with self._attempt(actor, "unwatch", {"channel": channel}, channel, request_id):
            removed = await self._store.unsubscribe(channel)
            await self._store.forget_channel(channel)
        return removed

    async def snooze(
        self,
        actor: Actor,
        channel: str,
        rule: str,
        duration: timedelta,
        request_id: str | None = None,
    ) -> datetime:
        """Mute ``rule`` (or ``all``) in ``channel`` for ``duration``; return when it ends."""
        args = {"channel": channel, "rule": rule, "seconds": int(duration.total_seconds())}
        async with self._attempt(actor, "snooze", args, channel, request_id):
            if rule != ALL_RULES and rule not in RULES:
                raise InvalidInput("rule", f"must be one of {', '.join((*RULES, ALL_RULES))}")
            if not timedelta(minutes=1) <= duration <= MAX_SNOOZE:
                raise InvalidInput("duration", "must be from 1m to 7d")
            until = self._now() + duration
            await self._store.snooze(channel, rule, until)
        return until

    async def status(self, channel: str, *, newly_subscribed: bool = False) -> WatchStatus:
        try:
            alerts = await self._store.alerts()
            count, last, _ = await self._store.checks()
            return WatchStatus(
                channel=channel,
                newly_subscribed=newly_subscribed,
                channels=await self._store.channels(),
                rules=self._thresholds.describe(),
                alerts=sorted(alerts.values(), key=lambda a: a.key),
                snoozes=await self._store.snoozes(channel, self._now()),
                checks=count,
                last_check=last,
                leader=await self._lease.holder(),
                interval_s=self._interval_s,
            )
        except RedisError as exc:
            raise WatchUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def _attempt(
        self,
        actor: Actor,
        route: str,
        args: Mapping[str, Any],
        channel: str,
        request_id: str | None,
    ) -> AsyncIterator[None]:
        """Authorize, audit the start (fail closed), run the block, audit the finish."""
        start = AttemptStart(
            attempt_id=new_id("att"),
            request_id=request_id or new_request_id(),
            actor=actor,
            route=route,
            args=dict(args),
            started_at=self._now(),
            context={"channel": channel},
        )
        if not can_operate(actor.role):
            denied = PermissionRequired(f"{actor.id} may not change what the bot watches.")
            try:  # nothing changes: a broken audit store must not hide the denial
                await self._audit.record_start(start)
                await self._finish(start, "denied", denied)
            except AuditUnavailable as exc:
                log.error("audit unavailable; %s denial not recorded: %s", route, exc.message)
            raise denied.with_request_id(start.request_id)
        try:
            await self._audit.record_start(start)
        except AuditUnavailable as exc:
            raise exc.with_request_id(start.request_id) from None
        try:
            yield
        except RedisError as exc:
            failed = WatchUnavailable(f"Redis did not answer: {type(exc).__name__}")
            await self._finish(start, "failed", failed)
            raise failed.with_request_id(start.request_id) from exc
        except OpsError as exc:
            await self._finish(start, "failed", exc)
            raise exc.with_request_id(start.request_id) from None
        await self._finish(start, "succeeded", None)

    async def _finish(self, start: AttemptStart, outcome: Outcome, error: OpsError | None) -> None:
        await self._audit.record_finish(
            AttemptFinish(
                attempt_id=start.attempt_id,
                request_id=start.request_id,
                outcome=outcome,
                finished_at=self._now(),
                error_code=error.code if error else None,
                error_message=error.message if error else None,
            )
        )
