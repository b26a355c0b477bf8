"""The watch's settings turned into core objects: thresholds, the leader lease, the control.

Apart from ``bot.watcher`` (the loop) so that the composition root can build each
environment's ``/restate watch`` control without importing the loop.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from redis.asyncio import Redis

from bot.settings import Settings
from core.audit import AuditLog
from core.watch.catalog import Thresholds
from core.watch.control import WatchControl
from core.watch.lease import LeaderLease
from core.watch.store import WatchStore


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


def lease(settings: Settings, redis: Redis, prefix: str, owner: str | None = None) -> LeaderLease:
    return LeaderLease(
        redis,
        prefix=prefix,
        owner=owner or replica_id(),
        ttl_ms=round(settings.watch_lease_s * 1000),
    )


def watch_control(
    settings: Settings, redis: Redis, audit: AuditLog, *, prefix: str
) -> WatchControl | None:
    """What ``/restate watch|unwatch|snooze`` drive for one environment; None when off."""
    if not settings.watch_interval_s:
        return None
    return WatchControl(
        store=WatchStore(redis, prefix=prefix),
        lease=lease(settings, redis, prefix),
        audit=audit,
        thresholds=thresholds(settings),
        interval_s=settings.watch_interval_s,
    )
