"""The CLI never prints a URL's password (previews, readouts, JSON, Restate's errors) and refuses
URL arguments it could not send.

Restate stores a deployment URI with its user info and repeats it in its error messages; an
operator may also type one. The CLI runs as a subprocess (``tests.integration.test_cli.Cli``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.exits import ExitCode
from bot.devstack import free_port
from core.restate.client import RestateAdminClient
from tests.integration.conftest import (
    RegisteredWorkflowService,
    RestateStack,
    StartRestate,
    StartWorkflowService,
)
from tests.integration.test_cli import Cli, cli_env

pytestmark = pytest.mark.integration

PASSWORD = "hunter2"


@pytest.fixture
def cli(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> Cli:
    env = cli_env(
        restate_stack.admin_url, restate_stack.ingress_url, redis_url, f"{redis_prefix}audit"
    )
    return Cli(env, tmp_path)


async def test_cleanup_of_a_credentialed_url_does_not_print_the_password(cli: Cli) -> None:
    """`restate-ops cleanup http://admin:hunter2@nope:1` names the URL with REDACTED user info."""
    result = await cli("cleanup", f"http://admin:{PASSWORD}@nope:1", "--yes")
    assert result.code == ExitCode.NOT_FOUND, result.err
    assert "http://REDACTED@nope:1" in result.err
    assert PASSWORD not in result.out + result.err


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
async def test_restate_error_is_printed_without_the_password(
    cli: Cli, json_flag: tuple[str, ...]
) -> None:
    """A registration Restate refuses prints its message (text or JSON) with REDACTED user info."""
    url = f"http://admin:{PASSWORD}@127.0.0.1:{free_port()}/"
    result = await cli("redeploy", url, "--yes", *json_flag)
    printed = result.out + result.err
    assert result.code == ExitCode.ERROR, printed
    assert "RESTATE_ADMIN_REQUEST_FAILED" in printed
    assert "http://REDACTED@127.0.0.1" in printed
    assert PASSWORD not in printed


async def test_doctor_shows_a_stored_password_as_redacted(
    fresh_restate: StartRestate,
    start_workflow_service: StartWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    """A deployment registered with user info is listed by doctor, text and JSON, as REDACTED."""
    server, service = await fresh_restate(), await start_workflow_service()
    credentialed = service.url.replace("http://", f"http://ops:{PASSWORD}@")
    async with RestateAdminClient(server.admin_url) as admin:
        await admin.register_deployment(credentialed, force=True)
        assert credentialed in [d.endpoint for d in await admin.list_deployments()]
    env = cli_env(server.admin_url, server.ingress_url, redis_url, f"{redis_prefix}audit")
    cli = Cli(env, tmp_path)
    text, as_json = await cli("doctor"), await cli("doctor", "--json")
    redacted = credentialed.replace(f"ops:{PASSWORD}", "REDACTED")
    assert [item["serviceUrl"] for item in as_json.json()["deployments"]["items"]] == [redacted]
    # Not `redacted in text.out`: a table may wrap the URL over two lines. The password must not
    # appear in any form, wrapped or not (redaction per written line cannot see a wrapped URL).
    assert PASSWORD not in text.out + text.err + as_json.out + as_json.err
    assert "REDACTED" in text.out


async def test_a_url_argument_that_is_not_utf8_is_refused(cli: Cli) -> None:
    """A serviceUrl whose bytes are not UTF-8 (argv keeps them as surrogates) is bad input."""
    result = await cli("redeploy", "http://x\udcff/", "--yes")
    assert result.code == ExitCode.BAD_INPUT, result.err
    assert "serviceUrl" in result.err


async def test_an_argument_error_does_not_echo_the_password(cli: Cli) -> None:
    """Even the argument parser's own complaint (which may quote the bad value) is redacted."""
    result = await cli("audit", "tail", f"http://admin:{PASSWORD}@nope:1")
    assert result.code == ExitCode.BAD_INPUT
    assert PASSWORD not in result.out + result.err
