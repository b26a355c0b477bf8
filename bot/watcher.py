"""The watcher inside ``restate-ops serve``: a check every ``WATCH_INTERVAL_S``, led by one replica.

Every replica runs this loop; the lease in ``core.watch.lease`` decides which one actually reads
Restate and posts. On shutdown the leader gives the lease up, so another replica takes over at
its next check instead of waiting for the lease to expire.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import MeteredAuditLog, Metrics
from bot.services import Services
from bot.settings import Settings
from core.errors import WatchUnavailable
from core.operations import utc_now
from core.watch.alerts import AlertNotifier
from core.watch.catalog import Thresholds
from core.watch.control import WatchControl
from core.watch.engine import Watch, WatchConfig
from core.watch.lease import LeaderLease
from core.watch.store import WatchStore
from handlers.alerts import SlackAlertNotifier

log = logging.getLogger(__name__)


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        failure_window=timedelta(minutes=settings.watch_failure_window_min),
        failures_min=settings.watch_failures_min,
        paused_min=settings.watch_paused_min,
        backing_off=timedelta(minutes=settings.watch_backing_off_min),
        zombies_min=settings.watch_zombies_min,
        draining=timedelta(minutes=settings.watch_draining_min),
    )


def replica_id() -> str:
    """Unique per process: two replicas on one host (or a restart) never share a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def lease(services: Services, owner: str | None = None) -> LeaderLease:
    settings = services.settings
    return LeaderLease(
        services.redis,
        prefix=settings.watch_prefix,
        owner=owner or replica_id(),
        ttl_ms=round(settings.watch_lease_s * 1000),
    )


def watch_control(services: Services) -> WatchControl | None:
    """What ``/restate watch|unwatch|snooze`` drive; None when watching is off."""
    settings = services.settings
    if not settings.watch_interval_s:
        return None
    return WatchControl(
        store=WatchStore(services.redis, prefix=settings.watch_prefix),
        lease=lease(services),
        audit=MeteredAuditLog(services.audit, services.metrics),
        thresholds=thresholds(settings),
        interval_s=settings.watch_interval_s,
    )


def build_watch(
    services: Services,
    notifier: AlertNotifier | None,
    *,
    owner: str | None = None,
    now: Callable[[], datetime] = utc_now,
) -> Watch:
    settings = services.settings
    config = WatchConfig(
        thresholds=thresholds(settings),
        hold=settings.watch_hold_checks,
        clear=settings.watch_clear_checks,
        probe_timeout_s=settings.probe_timeout_s,
        live_service_url=services.operations.live_service_url,
        # Buttons are re-offered at half their lifetime, so an open alert always has live ones.
        offer_refresh=timedelta(seconds=settings.pending_action_ttl_s / 2),
    )
    return Watch(
        admin=services.admin,
        ingress=services.ingress,
        store=WatchStore(services.redis, prefix=settings.watch_prefix),
        lease=lease(services, owner),
        audit=services.audit,
        notifier=notifier,
        config=config,
        now=now,
    )


async def run_watcher(
    watch: Watch,
    metrics: Metrics | None,
    *,
    interval_s: float,
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Check, wait ``interval_s``, repeat, until cancelled; then give the lease up."""
    try:
        while True:
            try:
                result = await watch.check()
            except WatchUnavailable as exc:
                log.warning("watch check skipped: %s", exc.message)
                if metrics is not None:
                    metrics.record_check_error()
            except Exception:
                # The watcher's one catch-all: a bad check (Redis down, a bug) is logged and
                # counted, and the next check runs as usual. Cancellation is not an Exception.
                log.exception("watch check failed")
                if metrics is not None:
                    metrics.record_check_error()
            else:
                if metrics is not None:
                    metrics.record_check(result)
            await wait(interval_s)
    finally:
        try:
            await asyncio.shield(watch.release())
        except Exception:
            log.warning("watch: could not release the lease; it expires on its own")


def start_watcher(services: Services, slack_client: AsyncWebClient | None) -> asyncio.Task[None]:
    """The watcher task of ``serve``: alerts go to Slack when a client is given, else nowhere
    (the metrics still show open alerts)."""
    notifier = SlackAlertNotifier(slack_client, services.pending) if slack_client else None
    return asyncio.create_task(
        run_watcher(
            build_watch(services, notifier),
            services.metrics,
            interval_s=services.settings.watch_interval_s,
        ),
        name="watch",
    )
