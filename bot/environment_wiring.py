"""One environment's clients and use cases, built from its spec and the shared settings.

Every use case records through :class:`core.environments.EnvironmentAudit`, so each audit entry
names its environment. Redis keys of the watch and of triage are per environment (the environment
``default`` keeps the keys a single-environment bot always had).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from redis.asyncio import Redis

from bot.metrics import MeteredAuditLog, Metrics
from bot.settings import Settings
from bot.watch_wiring import watch_control
from core.audit import AuditLog
from core.environments import DEFAULT_ENVIRONMENT, Environment, EnvironmentAudit, EnvironmentSpec
from core.operations import Operations
from core.pending import PendingActions
from core.restate.client import RestateAdminClient, RestateIngressClient
from core.triage.service import Triage, TriageConfig
from core.triage.store import BulkActionStore
from core.two_person import ApprovalGate, TwoPersonRule

#: Doctors asked for within this long of a finished run get its readout (writes start afresh).
READOUT_MAX_AGE_S = 1.0
TRIAGE_PREFIX = "restate-ops:triage:"


def key_prefix(base: str, environment: str) -> str:
    """``base`` for the environment ``default``, else ``base<environment>:``."""
    return base if environment == DEFAULT_ENVIRONMENT else f"{base}{environment}:"


@asynccontextmanager
async def build_environment(
    spec: EnvironmentSpec,
    settings: Settings,
    *,
    redis: Redis,
    audit: AuditLog,
    metrics: Metrics,
    pending: PendingActions,
) -> AsyncIterator[Environment]:
    """``spec``'s clients and use cases; its held writes wait in ``pending``, the one store of
    offered writes (each environment has its own key space there)."""
    admin = RestateAdminClient(spec.admin_url)
    # One ingress call per doctor run: two slots are plenty.
    ingress = (
        RestateIngressClient(spec.ingress_url, max_concurrency=2) if spec.ingress_url else None
    )
    try:
        # Stamped outside the meter, so the meter sees (and labels) each attempt's environment.
        env_audit = EnvironmentAudit(MeteredAuditLog(audit, metrics), spec.name)
        operations = Operations(
            admin=admin,
            ingress=ingress,
            audit=env_audit,
            live_service_url=spec.service_url,
            probe_timeout_s=spec.probe_timeout_s,
            readout_max_age_s=READOUT_MAX_AGE_S,
            approvals=ApprovalGate(
                TwoPersonRule(force_drain=settings.two_person_force_drain),
                pending,
                environment=spec.name,
            ),
        )
        yield Environment(
            spec=spec,
            admin=admin,
            ingress=ingress,
            operations=operations,
            triage=_triage(spec, settings, redis, admin, env_audit),
            watch=watch_control(
                settings,
                redis,
                env_audit,
                prefix=key_prefix(settings.watch_prefix, spec.name),
            ),
        )
    finally:
        await admin.aclose()
        if ingress is not None:
            await ingress.aclose()


def _triage(
    spec: EnvironmentSpec,
    settings: Settings,
    redis: Redis,
    admin: RestateAdminClient,
    audit: AuditLog,
) -> Triage:
    ttl = timedelta(seconds=settings.pending_action_ttl_s)
    store = BulkActionStore(
        redis,
        prefix=key_prefix(TRIAGE_PREFIX, spec.name),
        ttl=ttl,
        approval_ttl=timedelta(seconds=settings.triage_approval_ttl_s),
    )
    config = TriageConfig(
        concurrency=settings.triage_concurrency, two_person=settings.triage_two_person_actions
    )
    return Triage(admin=admin, audit=audit, store=store, config=config, action_ttl=ttl)
