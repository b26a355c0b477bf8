"""Build the triage use cases from the running services (one place for HTTP, Slack and the CLI).

Its settings (``TRIAGE_CONCURRENCY``, ``TRIAGE_TWO_PERSON_ACTIONS``, ``TRIAGE_APPROVAL_TTL_S``)
are part of :class:`bot.settings.Settings`; core receives plain values.
"""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services
from core.triage.service import Triage, TriageConfig
from core.triage.store import BulkActionStore


def build_triage(services: Services) -> Triage:
    settings = services.settings
    ttl = timedelta(seconds=settings.pending_action_ttl_s)
    store = BulkActionStore(
        services.redis, ttl=ttl, approval_ttl=timedelta(seconds=settings.triage_approval_ttl_s)
    )
    config = TriageConfig(
        concurrency=settings.triage_concurrency, two_person=settings.triage_two_person_actions
    )
    return Triage(
        admin=services.admin, audit=services.audit, store=store, config=config, action_ttl=ttl
    )
