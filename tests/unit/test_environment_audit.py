"""Review findings: an environment's view of the shared audit log (and its metrics) is its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import MeteredAuditLog, Metrics
from core.audit import Actor, AttemptStart
from core.environments import DEFAULT_ENVIRONMENT, EnvironmentAudit
from core.errors import Unauthenticated
from core.operations import Attempt, Operations
from core.watch.alerts import last_action
from tests.fakes import FakeAuditLog

OPENED = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)


def _start(attempt_id: str, route: str, minutes: int) -> AttemptStart:
    return AttemptStart(
        attempt_id=attempt_id,
        request_id=f"req_{attempt_id}",
        actor=Actor(id="U1", surface="slack", role="operator"),
        route=route,
        args={},
        started_at=OPENED + timedelta(minutes=minutes),
        context={"channel": "C1"},
    )


async def test_a_prod_alert_never_names_a_staging_write_as_its_last_action() -> None:
    """A prod watch's resolved note finds no last action when only staging wrote meanwhile."""
    log = FakeAuditLog()
    prod, staging = EnvironmentAudit(log, "prod"), EnvironmentAudit(log, "staging")
    await prod.record_start(_start("a1", "doctor", 1))
    await staging.record_start(_start("a2", "cleanup-stale-deployments", 2))

    views = await prod.latest(100)

    assert [v.start.attempt_id for v in views] == ["a1"]
    assert last_action(views, since=OPENED, channel="C1", ts="9.9") is None


async def test_the_default_environment_keeps_the_entries_older_than_environments() -> None:
    """Entries without an environment are the default one's, and no other's."""
    log = FakeAuditLog()
    await log.record_start(_start("old", "recover-stuck-workflow", 1))
    await EnvironmentAudit(log, "prod").record_start(_start("p", "force-redeploy", 2))

    default_views = await EnvironmentAudit(log, DEFAULT_ENVIRONMENT).latest(10)
    prod_views = await EnvironmentAudit(log, "prod").latest(10)

    assert [v.start.attempt_id for v in default_views] == ["old"]
    assert [v.start.attempt_id for v in prod_views] == ["p"]


async def test_a_refusal_that_acted_on_no_environment_is_not_metered_as_the_default() -> None:
    """An unknown X-Restate-Environment's refusal (audited unscoped) counts under 'none'."""
    metrics = Metrics()
    unscoped = Operations(admin=None, ingress=None, audit=MeteredAuditLog(FakeAuditLog(), metrics))
    stranger = Attempt(actor=Actor(id="anonymous", surface="http", role="none"))
    with pytest.raises(Unauthenticated):
        await unscoped.refuse(stranger, "doctor", {}, Unauthenticated("Missing or unknown key."))

    counted = {
        s.labels["environment"]
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
        if s.name == "restate_ops_operations_total"
    }
    assert counted == {"none"}
