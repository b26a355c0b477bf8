"""Review findings: the CLI's approve acts in the environment the operator chose, or refuses."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from rich.console import Console

from bot.cli import commands
from bot.cli.exits import ExitCode
from bot.cli.terminal import Io
from bot.services import Services
from bot.settings import load_settings
from core.audit import Actor
from core.audit.store import RedisAuditLog
from core.authz import OPERATOR
from core.environments import Environment, Environments, EnvironmentSpec
from core.errors import ApprovalRequired, InvalidInput
from core.operations import Attempt, Operations
from core.pending import PendingActions
from core.two_person import ApprovalGate, TwoPersonRule
from tests.fakes import FakeAuditLog, FakeHeldWrites
from tests.unit.test_triage import clean_settings_environment
from tests.unit.write_fakes import FakeAdmin

NOW = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
KEEP_URL = "http://ddwf:9080/"
FORCED = {"serviceUrl": KEEP_URL, "forceDrain": True}


def _prod_admin() -> FakeAdmin:
    """dp_keep (kept), dp_busy (a pinned suspended run): forceDrain deletes dp_busy."""
    admin = FakeAdmin()
    admin.add_workflow(deployment="dp_keep")
    admin.add_deployment("dp_busy", "http://old:9080/", "2026-05-09T09:00:00.000000000Z")
    admin.add_deployment("dp_keep", KEEP_URL, "2026-05-09T10:00:00.000000000Z")
    admin.add_run("suspended", run_id="inv_pinned", pinned="dp_busy")
    return admin


class Two:
    def __init__(self, services: Services, store: FakeHeldWrites, prod: Operations) -> None:
        self.services, self.store, self.prod = services, store, prod


@pytest.fixture
async def two(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Two]:
    """prod (with a write to hold) and staging, over one store of held writes."""
    clean_settings_environment(monkeypatch, tmp_path)
    store = FakeHeldWrites(lambda: NOW, ttl=timedelta(minutes=15))
    prod_fake, staging_fake = _prod_admin(), FakeAdmin()
    async with prod_fake.client() as prod_admin, staging_fake.client() as staging_admin:
        gate = ApprovalGate(TwoPersonRule(), store, environment="prod")
        prod = Operations(admin=prod_admin, ingress=None, audit=FakeAuditLog(), approvals=gate)
        staging = Operations(admin=staging_admin, ingress=None, audit=FakeAuditLog())
        envs = Environments(
            [
                Environment(EnvironmentSpec("prod", "http://p.test"), prod_admin, None, prod),
                Environment(
                    EnvironmentSpec("staging", "http://s.test"), staging_admin, None, staging
                ),
            ],
            "staging",
        )
        services = Services(
            settings=load_settings(),
            redis=cast(Redis, None),  # unused: the held writes are in the fake store
            audit=cast(RedisAuditLog, FakeAuditLog()),
            pending=cast(PendingActions, store),
            environments=envs,
        )
        yield Two(services, store, prod)
        assert staging_fake.requests == []  # nothing ever ran on staging


def _io() -> Io:
    return Io(Console(file=io.StringIO()), Console(file=io.StringIO()), io.StringIO())


async def _held(two: Two) -> str:
    alice = Attempt(actor=Actor(id="alice", surface="cli", role=OPERATOR))
    with pytest.raises(ApprovalRequired) as held:
        await two.prod.execute(alice, "cleanup-stale-deployments", FORCED)
    approval_id: Any = held.value.data["approvalId"]
    return str(approval_id)


async def test_cli_approve_on_staging_refuses_a_prod_write_and_leaves_it_waiting(two: Two) -> None:
    """`--env staging approve <prod's id> --yes` is refused on --env; the write still waits."""
    approval_id = await _held(two)

    with pytest.raises(InvalidInput) as refused:
        await commands.approve(
            two.services, _io(), approval_id, environment="staging", reason=None, yes=True
        )

    assert refused.value.field == "--env"
    assert "belongs to the environment prod" in refused.value.rule
    assert await two.store.peek(approval_id, "prod") is not None


async def test_cli_approve_runs_a_write_held_in_the_environment_named(two: Two) -> None:
    """`--env prod approve <prod's id> --yes` runs it on prod."""
    approval_id = await _held(two)

    code = await commands.approve(
        two.services, _io(), approval_id, environment="prod", reason=None, yes=True
    )

    assert code == ExitCode.OK
    assert await two.store.peek(approval_id, "prod") is None
