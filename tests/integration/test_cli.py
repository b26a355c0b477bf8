"""The `restate-ops` CLI as a subprocess against the live stack: output, prompts, exit codes."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cli.exits import ExitCode
from bot.devstack import WorkflowIngress, free_port
from core.restate.client import RestateAdminClient
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
    wait_for_status,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    """Runs `python -m bot` with an environment pointing at the stack, from an empty directory."""

    env: dict[str, str]
    cwd: Path

    def with_env(self, **changes: str) -> Cli:
        return Cli({**self.env, **changes}, self.cwd)

    async def __call__(self, *args: str, stdin: str = "") -> Result:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=self.cwd,
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 120)
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())


def cli_env(admin_url: str, ingress_url: str, redis_url: str, stream: str) -> dict[str, str]:
    # A clean environment: no Slack, no developer .env (cwd is an empty directory). The login
    # name variables stay, so that the CLI's OS user is the one getpass sees in this process.
    login = {name: os.environ[name] for name in ("USER", "LOGNAME") if name in os.environ}
    return {
        **login,
        "PATH": os.environ["PATH"],
        "RESTATE_ADMIN_URL": admin_url,
        "RESTATE_INGRESS_URL": ingress_url,
        "REDIS_URL": redis_url,
        "AUDIT_STREAM": stream,
    }


@pytest.fixture
async def cli(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> Cli:
    """The CLI against the session's Restate, with an audit stream of its own."""
    env = cli_env(
        restate_stack.admin_url, restate_stack.ingress_url, redis_url, f"{redis_prefix}audit"
    )
    return Cli(env, tmp_path)


@pytest.fixture
async def fresh_cli(
    fresh_restate: StartRestate, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Cli, RestateAdminClient]]:
    """The CLI against an isolated Restate (for tests that register or delete deployments)."""
    server = await fresh_restate()
    env = cli_env(server.admin_url, server.ingress_url, redis_url, f"{redis_prefix}audit")
    async with RestateAdminClient(server.admin_url) as admin:
        yield Cli(env, tmp_path), admin


async def registered(admin: RestateAdminClient) -> list[str]:
    return sorted(d.endpoint for d in await admin.list_deployments())


# --- doctor --------------------------------------------------------------------------------------


VERDICT_EXITS = {"OK": 0, "ATTENTION": 9, "DEGRADED": 9, "UNREACHABLE": 5}


@pytest.mark.parametrize("columns", ["80", "120"])
async def test_doctor_prints_the_verdict_then_a_table_that_fits(cli: Cli, columns: str) -> None:
    """Doctor leads with its verdict, prints one row per component, fits COLUMNS, no colours."""
    result = await cli.with_env(COLUMNS=columns)("doctor")
    lines = result.out.splitlines()
    verdict = lines[0].split()[0]
    assert result.code == VERDICT_EXITS[verdict], result.err
    assert lines[1].split() == ["COMPONENT", "STATUS", "LATENCY", "DETAIL"]
    assert [line.split()[:2] for line in lines[2:7]] == [
        ["ingress", "ok"],
        ["admin", "ok"],
        ["deployments", "ok"],
        ["services", "ok"],
        ["invocations", "ok"],
    ]
    assert max(len(line) for line in lines) <= int(columns)
    assert "\x1b[" not in result.out


async def test_doctor_json_is_audited_with_the_os_user(cli: Cli) -> None:
    """`doctor --json` prints the readout, and `audit tail --json` shows it done by the OS user."""
    doctor = await cli("doctor", "--json")
    tail = await cli("audit", "tail", "5", "--json")
    readout, rows = doctor.json(), tail.json()
    assert {"ingress", "admin", "deployments", "services", "invocations"} <= set(readout)
    assert [(r["requestId"], r["route"], r["outcome"]) for r in rows] == [
        (readout["requestId"], "doctor", "succeeded")
    ]
    assert (rows[0]["actor"]["id"], rows[0]["actor"]["surface"]) == (getpass.getuser(), "cli")


async def test_doctor_exits_5_when_restate_is_unreachable(cli: Cli) -> None:
    """With the admin API unreachable, doctor still prints the readout, verdict first, exits 5."""
    result = await cli.with_env(RESTATE_ADMIN_URL=f"http://127.0.0.1:{free_port()}")("doctor")
    lines = result.out.splitlines()
    assert result.code == ExitCode.UNREACHABLE
    assert lines[0].startswith("UNREACHABLE · ")
    assert any(line.split()[:2] == ["admin", "unreachable"] for line in lines)


# --- writes: prompt, --yes, --json ---------------------------------------------------------------


async def test_declined_prompt_changes_nothing_and_yes_runs(
    fresh_cli: tuple[Cli, RestateAdminClient], start_workflow_service: StartWorkflowService
) -> None:
    """Answering n registers nothing (exit 7); --yes registers and prints the deployment id."""
    cli, admin = fresh_cli
    service = await start_workflow_service()

    declined = await cli("redeploy", service.url, stdin="n\n")
    after_decline = await registered(admin)
    done = await cli("redeploy", service.url, "--yes")

    assert (declined.code, after_decline) == (ExitCode.DECLINED, [])
    assert "Proceed? [y/N]" in declined.err
    assert service.url in declined.err  # the preview names what would be registered
    assert done.code == ExitCode.OK, done.err
    assert await registered(admin) == [service.url]
    assert "registered" in done.out


async def test_prompt_answered_yes_runs_and_json_prints_the_route_body(
    fresh_cli: tuple[Cli, RestateAdminClient], start_workflow_service: StartWorkflowService
) -> None:
    """A "y" at the prompt proceeds; --json prints the seed's body plus the request id."""
    cli, admin = fresh_cli
    service = await start_workflow_service()
    result = await cli("redeploy", service.url, "--json", "--reason", "INC-7", stdin="y\n")
    body = result.json()
    tail = (await cli("audit", "tail", "1", "--json")).json()
    assert result.code == ExitCode.OK, result.err
    assert (body["acknowledged"], body["deploymentId"]) == (
        True,
        (await admin.list_deployments())[0].id,
    )
    assert (tail[0]["requestId"], tail[0]["reason"]) == (body["requestId"], "INC-7")


async def test_cleanup_keeps_the_given_deployment(
    fresh_cli: tuple[Cli, RestateAdminClient], start_workflow_service: StartWorkflowService
) -> None:
    """cleanup --yes keeps the URL given and deletes the other, drained deployment."""
    cli, admin = fresh_cli
    old, new = await start_workflow_service(), await start_workflow_service()
    await admin.register_deployment(old.url, force=True)
    await admin.register_deployment(new.url, force=True)
    result = await cli("cleanup", new.url, "--yes")
    assert result.code == ExitCode.OK, result.err
    assert await registered(admin) == [new.url]
    assert any(line.split()[2:3] == ["deleted"] for line in result.out.splitlines())


# --- exit codes ----------------------------------------------------------------------------------


async def test_bad_input_exits_2_before_anything_runs(cli: Cli) -> None:
    """An invalid workflow key, or a redeploy without any URL, exits 2 and names the field."""
    bad_key = await cli("recover", "InvitationWorkflow", "o'brien", "--yes")
    no_url = await cli("redeploy", "--yes")
    assert (bad_key.code, no_url.code) == (ExitCode.BAD_INPUT, ExitCode.BAD_INPUT)
    assert "serviceKey: must match" in bad_key.err
    assert "serviceUrl" in no_url.err


async def test_blocked_recovery_exits_3_with_reason_and_ids(
    cli: Cli, ingress: WorkflowIngress, restate_admin: RestateAdminClient, workflow_key: str
) -> None:
    """Recovering a key whose run waits for approval exits 3; --json prints the seed's error."""
    await ingress.submit("InvitationWorkflow", workflow_key, {"mode": "hang"})
    await wait_for_status(restate_admin, "InvitationWorkflow", workflow_key, "suspended")
    human = await cli("recover", "InvitationWorkflow", workflow_key, "--yes")
    scripted = await cli("recover", "InvitationWorkflow", workflow_key, "--yes", "--json")
    assert (human.code, scripted.code) == (ExitCode.BLOCKED, ExitCode.BLOCKED)
    assert "RESTATE_WORKFLOW_RETRY_BLOCKED" in human.err
    assert "reason: active-invocation" in human.err
    body = scripted.json()
    assert (body["code"], body["data"]["reason"]) == (
        "RESTATE_WORKFLOW_RETRY_BLOCKED",
        "active-invocation",
    )
    await ingress.approve("InvitationWorkflow", workflow_key, "ok")


async def test_unknown_deployment_exits_4(cli: Cli, restate_admin: RestateAdminClient) -> None:
    """cleanup with a URL no deployment has exits 4 and deletes nothing."""
    before = await registered(restate_admin)
    result = await cli("cleanup", "http://127.0.0.1:9/not-registered", "--yes")
    assert result.code == ExitCode.NOT_FOUND
    assert "RESTATE_DEPLOYMENT_NOT_FOUND" in result.err
    assert await registered(restate_admin) == before


async def test_unreachable_admin_or_audit_exits_5(
    cli: Cli, workflow_service: RegisteredWorkflowService
) -> None:
    """A write exits 5 when the admin API is unreachable, and when the audit store is."""
    no_admin = cli.with_env(RESTATE_ADMIN_URL=f"http://127.0.0.1:{free_port()}")
    no_audit = cli.with_env(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    admin_down = await no_admin("redeploy", workflow_service.url, "--yes")
    audit_down = await no_audit("redeploy", workflow_service.url, "--yes")
    assert (admin_down.code, audit_down.code) == (ExitCode.UNREACHABLE, ExitCode.UNREACHABLE)
    assert "RESTATE_ADMIN_UNREACHABLE" in admin_down.err
    assert "AUDIT_UNAVAILABLE" in audit_down.err


async def test_help_documents_the_exit_codes(cli: Cli) -> None:
    """--help ends with the exit-code table scripts rely on."""
    result = await cli("--help")
    assert result.code == ExitCode.OK
    for code in ExitCode:
        assert f"  {int(code):>3}  " in result.out


async def test_an_explicitly_empty_url_is_bad_input_not_the_default(
    fresh_cli: tuple[Cli, RestateAdminClient], start_workflow_service: StartWorkflowService
) -> None:
    """`redeploy "" --yes` exits 2 naming serviceUrl and registers nothing, default or not."""
    cli, admin = fresh_cli
    service = await start_workflow_service()
    result = await cli.with_env(RESTATE_SERVICE_URL=service.url)("redeploy", "", "--yes", "--json")
    assert result.code == ExitCode.BAD_INPUT
    assert (result.json()["code"], result.json()["data"]["field"]) == (
        "INVALID_INPUT",
        "serviceUrl",
    )
    assert await registered(admin) == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RESTATE_ADMIN_URL", ""), ("REDIS_URL", "http://nope"), ("OPERATOR_ALLOWLIST", "alice")],
)
async def test_bad_configuration_exits_2_naming_the_variable(
    cli: Cli, variable: str, value: str
) -> None:
    """An empty or malformed setting stops the command with its name and no traceback."""
    result = await cli.with_env(**{variable: value})("doctor")
    assert result.code == ExitCode.BAD_INPUT
    assert f"{variable}: " in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


async def test_argument_errors_name_the_argument_not_an_internal(cli: Cli) -> None:
    """A bad count names `n` as the help does; a missing argument names it as documented."""
    bad_count = await cli("audit", "tail", "lots")
    missing = await cli("recover", "InvitationWorkflow")
    assert (bad_count.code, missing.code) == (ExitCode.BAD_INPUT, ExitCode.BAD_INPUT)
    assert "Invalid value for 'n'" in bad_count.err
    assert "Missing argument 'serviceKey'" in missing.err
    assert "_count" not in bad_count.err


# --- audit ---------------------------------------------------------------------------------------


async def test_audit_tail_is_one_line_per_attempt_oldest_first(cli: Cli) -> None:
    """audit tail prints when, who, what, outcome and request id, the newest attempt last."""
    first = (await cli("doctor", "--json")).json()["requestId"]
    await cli("recover", "InvitationWorkflow", "bad key!", "--yes")
    lines = (await cli("audit", "tail", "10")).out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(first)
    assert " doctor " in lines[0]
    assert "succeeded" in lines[0]
    assert "recover-stuck-workflow" in lines[1]
    assert "failed INVALID_INPUT" in lines[1]


async def test_audit_verify_reports_ok_then_the_first_broken_link(
    cli: Cli, redis_url: str, redis_prefix: str
) -> None:
    """verify exits 0 with the count on an intact chain and 8 once a foreign entry is appended."""
    await cli("doctor")
    intact = await cli("audit", "verify")
    redis: Redis = Redis.from_url(redis_url)
    try:
        await redis.xadd(f"{redis_prefix}audit", {"forged": "entry"})
    finally:
        await redis.aclose()
    broken = await cli("audit", "verify")
    assert (intact.code, broken.code) == (ExitCode.OK, ExitCode.CHECK_FAILED)
    assert intact.out.startswith("OK: 2 entries")
    assert broken.out.startswith("BROKEN at entry")
