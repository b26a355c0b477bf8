"""One watch check's readout: the doctor readout plus the per-service counts the rules need.

Everything is read concurrently under the probe timeout. A query that fails leaves its field
``None`` (the rule is unknown this time), never zero.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from core.doctor import run_doctor
from core.errors import AdminRequestFailed, AdminUnreachable
from core.models import DoctorReport
from core.restate import queries
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.restate.queries import ServiceStuck

T = TypeVar("T")


@dataclass(frozen=True)
class WatchReadout:
    report: DoctorReport
    #: Paused and backing-off counts per service.
    stuck: dict[str, ServiceStuck] | None
    #: Terminal failures per service within the failure window.
    failures: dict[str, int] | None
    #: Backing-off invocations per service older than the backing-off threshold.
    long_backing_off: dict[str, int] | None
    #: Non-completed invocations per unregistered deployment id.
    zombies: dict[str, int] | None
    #: The server version, read fresh (doctor's comes from the client's cache).
    version: str | None
    #: False when no ingress URL is configured: its "unreachable" is a choice, not trouble.
    ingress_probed: bool = True


async def _maybe(call: Callable[[], Awaitable[T]], timeout_s: float) -> T | None:
    # A factory, not a coroutine: a check cancelled before this task starts leaves nothing
    # un-awaited behind.
    try:
        async with asyncio.timeout(timeout_s):
            return await call()
    except (TimeoutError, AdminUnreachable, AdminRequestFailed):
        return None


async def _version(admin: RestateAdminClient) -> str:
    return (await admin.version(fresh=True)).version


async def read_watch(
    admin: RestateAdminClient,
    ingress: RestateIngressClient | None,
    *,
    now: datetime,
    failure_window: timedelta,
    backing_off: timedelta,
    probe_timeout_s: float,
) -> WatchReadout:
    """Doctor and the watch's own counts, concurrently; never raises for an admin failure."""
    report, stuck, failures, long_backing_off, zombies, version = await asyncio.gather(
        run_doctor(admin, ingress, now=lambda: now, probe_timeout_s=probe_timeout_s),
        _maybe(partial(queries.stuck_by_service, admin), probe_timeout_s),
        _maybe(partial(queries.failures_since, admin, now - failure_window), probe_timeout_s),
        _maybe(partial(queries.backing_off_before, admin, now - backing_off), probe_timeout_s),
        _maybe(partial(queries.zombie_pins, admin), probe_timeout_s),
        _maybe(partial(_version, admin), probe_timeout_s),
    )
    return WatchReadout(
        report, stuck, failures, long_backing_off, zombies, version, ingress is not None
    )
