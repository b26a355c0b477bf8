"""doctor: a read-only health readout of ingress, admin API, deployments, services and invocations.

The five components are probed concurrently and every admin call is an independent attempt: a
failure marks only the components that needed that answer. Transport failures and timeouts read
``unreachable``; an answer that is an error or cannot be parsed reads ``degraded``. The services
list is fetched once and feeds both the services readout and the deployments' drain state.

Each call is bounded by the client's own timeout (``probe_timeout_s``), which starts once the call
holds one of the admin client's slots: a call that waited behind our own requests is not a server
that failed to answer. Nothing here cancels a request: cancelling requests queued for a pool
connection once leaked the whole pool (issue 13, encode/httpcore#1093).

doctor raises only when no admin URL is configured (``admin is None``), as the operator guide says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal, TypeVar

from core.errors import AdminRequestFailed, AdminUnreachable
from core.models import (
    AdminReadout,
    DeploymentsReadout,
    DoctorReport,
    IngressReadout,
    InvocationPart,
    InvocationsReadout,
    ServiceItem,
    ServicesReadout,
)
from core.restate import queries
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.restate.wire import Service

T = TypeVar("T")
REASON_LIMIT = 300


@dataclass(frozen=True)
class ProbeFailure:
    """Why one admin call gave no usable answer."""

    status: Literal["unreachable", "degraded"]
    reason: str


async def _attempt(call: Callable[[], Awaitable[T]], what: str) -> T | ProbeFailure:
    """Await ``call()``; the known failures become a ProbeFailure that names ``what`` failed.

    ``call`` is a function, not a coroutine: a doctor cancelled before a probe starts must not
    leave a coroutine behind that was never awaited.
    """
    try:
        return await call()
    except AdminUnreachable as exc:
        return ProbeFailure("unreachable", _short(f"{what}: {exc.message}"))
    except AdminRequestFailed as exc:
        return ProbeFailure("degraded", _short(f"{what}: {exc.message}"))


def _short(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


def _reasons(failures: Sequence[ProbeFailure]) -> str | None:
    return "; ".join(failure.reason for failure in failures) or None


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


async def _measured(
    call: Callable[[], Awaitable[T]], what: str
) -> tuple[T | ProbeFailure, int | None]:
    """An attempt plus its latency, which only means something when the server answered."""
    started = time.monotonic()
    result = await _attempt(call, what)
    answered = not isinstance(result, ProbeFailure) or result.status == "degraded"
    return result, _elapsed_ms(started) if answered else None


# --- the five probes ------------------------------------------------------------------------


async def _probe_ingress(
    ingress: RestateIngressClient | None,
) -> IngressReadout:
    if ingress is None:
        return IngressReadout(status="unreachable", error="no Restate ingress URL is configured")
    result, latency = await _measured(ingress.health, "ingress health")
    if isinstance(result, ProbeFailure):
        return IngressReadout(status=result.status, latency_ms=latency, error=result.reason)
    return IngressReadout(status="ok", latency_ms=latency)


async def _probe_admin(admin: RestateAdminClient) -> AdminReadout:
    (health, latency), version = await asyncio.gather(
        _measured(admin.health, "admin health"),
        _attempt(admin.version, "admin version"),
    )
    if isinstance(health, ProbeFailure):
        # The version may come from the client's cache; do not present it as a fresh answer.
        return AdminReadout(status=health.status, latency_ms=latency, error=health.reason)
    if isinstance(version, ProbeFailure):
        return AdminReadout(status="degraded", latency_ms=latency, error=version.reason)
    return AdminReadout(status="ok", latency_ms=latency, version=version.version)


async def _probe_services(
    services: Callable[[], Awaitable[list[Service]]],
) -> ServicesReadout:
    listed = await _attempt(services, "service list")
    if isinstance(listed, ProbeFailure):
        return ServicesReadout(status=listed.status, error=listed.reason)
    items = [
        ServiceItem(
            name=service.name,
            revision=service.revision,
            type=service.ty,
            deployment_id=service.deployment_id,
        )
        for service in sorted(listed, key=lambda service: service.name)
    ]
    return ServicesReadout(status="ok", items=items)


async def _probe_deployments(
    admin: RestateAdminClient,
    services: Callable[[], Awaitable[list[Service]]],
) -> DeploymentsReadout:
    listed, pinned, latest_from = await asyncio.gather(
        _attempt(admin.list_deployments, "deployment list"),
        _attempt(partial(queries.pinned_active_counts, admin), "pinned invocation count"),
        _attempt(services, "service list (for drain state)"),
    )
    if isinstance(listed, ProbeFailure):
        return DeploymentsReadout(status=listed.status, error=listed.reason)
    services_known = None if isinstance(latest_from, ProbeFailure) else latest_from
    counts = None if isinstance(pinned, ProbeFailure) else pinned
    items = queries.deployment_items(listed, services_known, counts)
    # Drain state is only missing when there is something to classify.
    missing = [f for f in (pinned, latest_from) if isinstance(f, ProbeFailure)] if items else []
    if missing:
        return DeploymentsReadout(
            status="degraded", items=items, error=f"drain state unknown: {_reasons(missing)}"
        )
    return DeploymentsReadout(status="ok", items=items)


async def _probe_invocations(admin: RestateAdminClient) -> InvocationsReadout:
    counts, failures, stuck = await asyncio.gather(
        _attempt(partial(queries.invocation_counts, admin), "invocation counts"),
        _attempt(partial(queries.recent_failures, admin), "recent failures"),
        _attempt(partial(queries.stuck_invocations, admin), "stuck invocations"),
    )
    failed = [r for r in (counts, failures, stuck) if isinstance(r, ProbeFailure)]
    parts: tuple[tuple[InvocationPart, object], ...] = (
        ("byStatus", counts),
        ("recentFailures", failures),
        ("stuck", stuck),
    )
    readout = InvocationsReadout(
        status="ok",
        by_status={} if isinstance(counts, ProbeFailure) else counts,
        recent_failures=[] if isinstance(failures, ProbeFailure) else failures,
        stuck=[] if isinstance(stuck, ProbeFailure) else stuck,
        unknown=[name for name, part in parts if isinstance(part, ProbeFailure)],
    )
    if not failed:
        return readout
    # Unreachable only when nothing got through; any partial answer is a degraded readout.
    nothing = len(failed) == 3 and any(f.status == "unreachable" for f in failed)
    status: Literal["unreachable", "degraded"] = "unreachable" if nothing else "degraded"
    return readout.model_copy(update={"status": status, "error": _reasons(failed)})


# --- entry point ----------------------------------------------------------------------------


async def run_doctor(
    admin: RestateAdminClient | None,
    ingress: RestateIngressClient | None,
    *,
    now: Callable[[], datetime],
    probe_timeout_s: float = 5.0,
) -> DoctorReport:
    """Probe every component and return the readout; never stops at the first failure."""
    if admin is None:
        raise AdminUnreachable(
            "No Restate admin URL is configured, so doctor cannot probe anything."
        )
    checked_at = now()
    admin = admin.with_timeout(probe_timeout_s)
    ingress = ingress.with_timeout(probe_timeout_s) if ingress is not None else None
    # One GET /services for two readouts.
    services_task = asyncio.ensure_future(admin.list_services())
    try:
        ingress_r, admin_r, deployments_r, services_r, invocations_r = await asyncio.gather(
            _probe_ingress(ingress),
            _probe_admin(admin),
            _probe_deployments(admin, lambda: services_task),
            _probe_services(lambda: services_task),
            _probe_invocations(admin),
        )
    finally:
        services_task.cancel()  # a no-op when it finished (only a cancelled doctor gets here)
        if services_task.done() and not services_task.cancelled():
            services_task.exception()  # mark as retrieved: its readers already reported it
    return DoctorReport(
        ingress=ingress_r,
        admin=admin_r,
        deployments=deployments_r,
        services=services_r,
        invocations=invocations_r,
        checked_at=checked_at,
    )
