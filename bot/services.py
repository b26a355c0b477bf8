"""The composition root: build every client once at start-up, close them on shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis

from bot.metrics import MeteredAuditLog, Metrics
from bot.settings import Settings
from core.audit.store import RedisAuditLog, audit_redis_client
from core.operations import Operations
from core.pending import PendingActions
from core.restate.client import RestateAdminClient, RestateIngressClient

#: A dead Redis must fail fast: a write is refused rather than left hanging.
REDIS_TIMEOUT_S = 2.0
#: Doctors asked for within this long of a finished run get its readout (writes start afresh).
READOUT_MAX_AGE_S = 1.0


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Redis
    admin: RestateAdminClient
    ingress: RestateIngressClient | None
    audit: RedisAuditLog
    pending: PendingActions
    operations: Operations
    #: What ``GET /metrics`` shows; operations are timed through ``MeteredAuditLog``.
    metrics: Metrics = field(default_factory=Metrics)


def _text(url: object | None) -> str | None:
    """Core takes plain strings, never the settings' URL types."""
    return None if url is None else str(url)


@asynccontextmanager
async def build_services(settings: Settings) -> AsyncIterator[Services]:
    redis = audit_redis_client(str(settings.redis_url), timeout=REDIS_TIMEOUT_S)
    admin = RestateAdminClient(str(settings.restate_admin_url))
    ingress_url = settings.restate_ingress_url
    # One ingress call per doctor run: two slots are plenty.
    ingress = (
        RestateIngressClient(str(ingress_url), max_concurrency=2)
        if ingress_url is not None
        else None
    )
    audit = RedisAuditLog(redis, settings.audit_stream, retention=settings.audit_retention)
    pending = PendingActions(redis, ttl=timedelta(seconds=settings.pending_action_ttl_s))
    metrics = Metrics()
    operations = Operations(
        admin=admin,
        ingress=ingress,
        audit=MeteredAuditLog(audit, metrics),
        live_service_url=_text(settings.restate_service_url),
        probe_timeout_s=settings.probe_timeout_s,
        readout_max_age_s=READOUT_MAX_AGE_S,
    )
    try:
        yield Services(settings, redis, admin, ingress, audit, pending, operations, metrics)
    finally:
        await admin.aclose()
        if ingress is not None:
            await ingress.aclose()
        await redis.aclose()
