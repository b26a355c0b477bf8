"""One watch check: lead or stand by; read; evaluate; step the hysteresis; save; deliver.

Every state write is fenced by the lease (see ``core.watch.lease``): a replica that lost it
mid-check saves nothing and delivers nothing. Delivery is ``core.watch.delivery``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from core.audit import AuditLog
from core.errors import WatchUnavailable
from core.operations import utc_now
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.watch.alerts import AlertNotifier
from core.watch.catalog import Thresholds
from core.watch.delivery import Delivery
from core.watch.hysteresis import step
from core.watch.lease import LeaderLease, Leadership
from core.watch.probe import WatchReadout, read_watch
from core.watch.rules import evaluate
from core.watch.store import WatchStore

log = logging.getLogger(__name__)


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
    #: At most one "count changed" note per alert thread this often (the message is edited at
    #: once): during an incident the humans' own messages matter more.
    note_every: timedelta = timedelta(minutes=5)


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
        self._config = config
        self._delivery = (
            Delivery(
                store,
                lease,
                audit,
                notifier,
                config.live_service_url,
                config.offer_refresh,
                config.note_every,
                backing_off=config.thresholds.backing_off,
            )
            if notifier is not None
            else None
        )
        self._now = now
        self._leadership: Leadership | None = None

    @property
    def leadership(self) -> Leadership | None:
        return self._leadership

    async def check(self) -> CheckResult:
        """One check; a replica that does not hold the lease only tries to take it.

        Raises ``WatchUnavailable`` when Redis does not answer (the next check tries again).
        """
        try:
            return await self._check()
        except RedisError as exc:
            self._leadership = None
            raise WatchUnavailable(f"Redis did not answer: {type(exc).__name__}: {exc}") from exc

    async def _check(self) -> CheckResult:
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
        # Renew first: reading Restate may have taken a while, and delivery needs the lease too.
        renewed = await self._lease.renew(leadership)
        if not renewed or not await self._store.save(
            leadership, stepped.states, evaluation.memory, now
        ):
            log.warning("watch: lost the lease during a check; standing by")
            self._leadership = None
            return CheckResult(leader=False, seconds=time.monotonic() - started)
        if self._delivery is not None:
            await self._delivery.deliver(leadership, stepped.states, readout, now)
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
        """Give up the lease (at shutdown), so another replica takes over at once; also when
        this replica does not know it leads (an acquire cut short may still have taken it)."""
        self._leadership = None
        await self._lease.release()
