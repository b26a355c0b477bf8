"""``restate-ops invocations`` as a subprocess against the session's Restate and Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.cli.exits import ExitCode
from bot.devstack import WorkflowIngress
from bot.environment_wiring import TRIAGE_PREFIX
from core.restate.client import RestateAdminClient
from core.triage.models import INTERRUPTED_MESSAGE
from core.triage.store import BulkActionStore
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.test_cli import Cli, cli_env
from tests.integration.test_triage_live import FIXABLE, discard, until_count

pytestmark = pytest.mark.integration


@pytest.fixture
async def setup(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[Cli, RestateAdminClient, str, Path]]:
    env = cli_env(
        restate_stack.admin_url, restate_stack.ingress_url, redis_url, f"{redis_prefix}audit"
    )
    prefix = f"c{uuid.uuid4().hex[:8]}-"
    flag = tmp_path / "fixed"
    async with (
        RestateAdminClient(restate_stack.admin_url) as admin,
        WorkflowIngress(restate_stack.ingress_url) as ingress,
    ):
        for i in range(2):
            await ingress.submit(FIXABLE, f"{prefix}{i}", {"fixedWhen": str(flag)})
        assert await until_count(admin, prefix, "status = 'paused'", 2) == 2
        try:
            yield Cli(env, tmp_path), admin, prefix, flag
        finally:
            await discard(admin, prefix)


async def test_query_then_resume_from_the_terminal(
    setup: tuple[Cli, RestateAdminClient, str, Path],
) -> None:
    """query lists the paused runs and offers resume; resume --yes runs it once fixed."""
    cli, admin, prefix, flag = setup
    selection = ("--service", FIXABLE, "--key-prefix", prefix, "--status", "paused")

    query = await cli("invocations", "query", *selection, "--json")
    flag.touch()
    declined = await cli("invocations", "resume", *selection, stdin="n\n")
    resume = await cli("invocations", "resume", *selection, "--on", "latest", "--yes")

    assert query.code == ExitCode.OK, query.err
    assert query.json()["total"] == 2
    offered = {a["action"]: a["offered"] for a in query.json()["actions"]}
    assert (offered["resume"], offered["purge"]) == (True, False)
    assert declined.code == ExitCode.DECLINED
    assert "Resume 2 invocation(s)" in declined.err
    assert resume.code == ExitCode.OK, resume.err
    assert resume.out.splitlines()[0] == "resume: 2 done, 0 skipped, 0 failed of 2"
    completed = "status = 'completed' AND completion_result = 'success'"
    assert await until_count(admin, prefix, completed, 2) == 2


async def test_kill_waits_for_a_second_operator(
    setup: tuple[Cli, RestateAdminClient, str, Path],
) -> None:
    """kill prints the action id for a second operator; the same OS user cannot approve it."""
    cli, admin, prefix, _ = setup

    kill = await cli("invocations", "kill", "--key-prefix", prefix, "--yes")
    action_id = re.search(r"action id: (bulk_[0-9a-f]+)", kill.err)
    assert action_id is not None, kill.err
    own = await cli("invocations", "approve", action_id.group(1), "--yes", "--json")
    status = await cli("invocations", "status", action_id.group(1))

    assert kill.code == ExitCode.OK
    assert "A second operator must approve" in kill.err
    assert own.code == ExitCode.DENIED
    assert own.json()["code"] == "SELF_APPROVAL_REFUSED"
    assert status.code == ExitCode.OK
    assert status.err.startswith("pending: kill requested by ")
    assert status.out.splitlines() == ["kill: 0 done, 0 skipped, 0 failed of 2"]
    assert await until_count(admin, prefix, "status = 'paused'", 2) == 2


async def test_status_and_stop_of_a_run_whose_process_died_say_what_to_do(
    setup: tuple[Cli, RestateAdminClient, str, Path], redis_url: str
) -> None:
    """A kill claimed by a process that never checkpointed since (long ago): status reads
    interrupted with what to do next; stop and approve are refused with the same message."""
    cli, _, prefix, _ = setup
    kill = await cli("invocations", "kill", "--key-prefix", prefix, "--yes")
    found = re.search(r"action id: (bulk_[0-9a-f]+)", kill.err)
    assert found is not None, kill.err
    action_id = found.group(1)
    redis: Redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        store = BulkActionStore(redis, prefix=TRIAGE_PREFIX)
        await store.approve(action_id, "bob", now_ms=0)
        await store.claim(action_id, "bob", now_ms=1)  # its deadline passed in 1970
    finally:
        await redis.aclose()

    status = await cli("invocations", "status", action_id)
    stop = await cli("invocations", "stop", action_id, "--json")
    approve = await cli("invocations", "approve", action_id, "--yes", "--json")

    assert status.code == ExitCode.OK, status.err
    heading, message = status.err.splitlines()[:2]
    assert heading.startswith("interrupted: kill requested by ")
    assert message == INTERRUPTED_MESSAGE
    assert status.out.splitlines() == ["kill: 0 done, 0 skipped, 0 failed of 2"]
    for refused in (stop, approve):
        assert refused.code == ExitCode.ERROR
        body = refused.json()
        assert (body["code"], body["message"], body["data"]["state"]) == (
            "PENDING_ACTION_UNAVAILABLE",
            INTERRUPTED_MESSAGE,
            "interrupted",
        )
