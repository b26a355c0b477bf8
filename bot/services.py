"""The composition root: build every client once at start-up, close them on shutdown.

One Redis (audit, pending actions, watch, triage) serves every environment; each environment has
its own Restate clients and its own use cases (``bot.environment_wiring``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis

from bot.environment_wiring import build_environment
from bot.metrics import Metrics
from bot.settings import Settings, environment_specs
from core.audit.store import RedisAuditLog, audit_redis_client
from core.environments import Environment, Environments
from core.pending import PendingActions

#: A dead Redis must fail fast: a write is refused rather than left hanging.
REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Redis
    audit: RedisAuditLog
    pending: PendingActions
    environments: Environments
    #: What ``GET /metrics`` shows; operations are timed through ``MeteredAuditLog``.
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def default(self) -> Environment:
        """The environment a request acts on when it names none (and no channel binds one)."""
        return self.environments.default


@asynccontextmanager
async def build_services(settings: Settings) -> AsyncIterator[Services]:
    """Every client, built once; closed in reverse order on the way out, whatever happens."""
    specs, default = environment_specs(settings)  # raises SettingsError before anything opens
    async with AsyncExitStack() as stack:
        redis = audit_redis_client(str(settings.redis_url), timeout=REDIS_TIMEOUT_S)
        stack.push_async_callback(redis.aclose)
        audit = RedisAuditLog(redis, settings.audit_stream, retention=settings.audit_retention)
        pending = PendingActions(redis, ttl=timedelta(seconds=settings.pending_action_ttl_s))
        metrics = Metrics()
        environments = [
            await stack.enter_async_context(
                build_environment(
                    spec, settings, redis=redis, audit=audit, metrics=metrics, pending=pending
                )
            )
            for spec in specs
        ]
        yield Services(
            settings, redis, audit, pending, Environments(environments, default), metrics
        )
