"""The watcher inside ``restate-ops serve``: a check every ``WATCH_INTERVAL_S``, led by one replica.

Every replica runs this loop; the lease in ``core.watch.lease`` decides which one actually reads
Restate and posts. On shutdown the leader gives the lease up, so another replica takes over at
its next check instead of waiting for the lease to expire.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.environment_wiring import key_prefix
from bot.metrics import Metrics
from bot.services import Services
from bot.watch_wiring import lease, thresholds
from core.environments import DEFAULT_ENVIRONMENT, Environment, EnvironmentAudit
from core.errors import WatchUnavailable
from core.operations import utc_now
from core.tasks import pause, run_to_end
from core.watch.alerts import AlertNotifier
from core.watch.engine import Watch, WatchConfig
from core.watch.store import WatchStore
from handlers.alerts import SlackAlertNotifier
from handlers.blocks.environment import env_tag

log = logging.getLogger(__name__)


def build_watch(
    services: Services,
    notifier: AlertNotifier | None,
    *,
    environment: Environment | None = None,
    owner: str | None = None,
    now: Callable[[], datetime] = utc_now,
) -> Watch:
    """The watch of ``environment`` (the default one when None)."""
    settings = services.settings
    env = environment or services.default
    prefix = key_prefix(settings.watch_prefix, env.name)
    config = WatchConfig(
        thresholds=thresholds(settings),
        hold=settings.watch_hold_checks,
        clear=settings.watch_clear_checks,
        probe_timeout_s=env.spec.probe_timeout_s,
        live_service_url=env.spec.service_url,
        # Buttons are re-offered at half their lifetime, so an open alert always has live ones.
        offer_refresh=timedelta(seconds=settings.pending_action_ttl_s / 2),
    )
    return Watch(
        admin=env.admin,
        ingress=env.ingress,
        store=WatchStore(services.redis, prefix=prefix),
        lease=lease(settings, services.redis, prefix, owner),
        audit=EnvironmentAudit(services.audit, env.name),
        notifier=notifier,
        config=config,
        now=now,
    )


async def run_watcher(
    watch: Watch,
    metrics: Metrics | None,
    *,
    interval_s: float,
    stop: asyncio.Event | None = None,
    environment: str = DEFAULT_ENVIRONMENT,
    wait: Callable[[float], Awaitable[object]] | None = None,
) -> None:
    """Check, wait ``interval_s``, repeat, until ``stop`` is set or the task is cancelled; then
    give the lease up.

    ``stop`` ends the loop even when a cancellation is lost inside a Redis call (see
    ``core.tasks``): the check in flight finishes and no other starts.
    """
    stop = stop or asyncio.Event()
    pause_for = wait or functools.partial(pause, stop=stop)
    try:
        while not stop.is_set():
            try:
                result = await watch.check()
            except WatchUnavailable as exc:
                log.warning("watch check skipped: %s", exc.message)
                if metrics is not None:
                    metrics.record_check_error(environment)
            except Exception:
                # The watcher's one catch-all: a bad check (Redis down, a bug) is logged and
                # counted, and the next check runs as usual. Cancellation is not an Exception.
                log.exception("watch check failed")
                if metrics is not None:
                    metrics.record_check_error(environment)
            else:
                if metrics is not None:
                    metrics.record_check(result, environment)
            await pause_for(interval_s)
    finally:
        try:
            await run_to_end(watch.release())  # bounded by the Redis client's timeouts
        except Exception:
            log.warning("watch: could not release the lease; it expires on its own")


def start_watchers(
    services: Services, slack_client: AsyncWebClient | None, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """The watcher tasks of ``serve``, one per environment, until ``stop`` is set: alerts go to
    Slack when a client is given, else nowhere (the metrics still show open alerts)."""
    return [
        asyncio.create_task(
            run_watcher(
                build_watch(
                    services,
                    SlackAlertNotifier(
                        slack_client,
                        services.pending,
                        env_tag(env, services.environments.several),
                    )
                    if slack_client
                    else None,
                    environment=env,
                ),
                services.metrics,
                interval_s=services.settings.watch_interval_s,
                stop=stop,
                environment=env.name,
            ),
            name=f"watch-{env.name}",
        )
        for env in services.environments
    ]
