"""Two real Restate servers as two environments, on the HTTP routes, the CLI and `config check`.

``prod`` is the session's Restate, ``staging`` the second one; each has its own operator key. A
request acts on the environment its ``X-Restate-Environment`` header (or ``--env``) names, else
the default (``staging`` here), with a key of that environment only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.devstack import free_port
from bot.settings import Settings, load_settings
from core.audit import AttemptView
from core.restate.client import RestateAdminClient
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.environments_file import write_two_environments
from tests.integration.test_cli import Cli, cli_env
from tests.integration.test_http_routes import audit_row, running_server

pytestmark = pytest.mark.integration

DOCTOR = "/api/v2/admin/operator/restate/doctor"
PROD_KEY = "prod-operator-key-0123456789"
STAGING_KEY = "staging-operator-key-0123456789"
HEADER = "X-Restate-Environment"


@dataclass(frozen=True)
class Two:
    """The environments file and what each environment's server has registered."""

    config: Path
    prod_deployment: str
    staging_deployment: str


def environments(
    path: Path, prod: RestateStack, staging: RestateStack, **extra: dict[str, Any]
) -> Path:
    return write_two_environments(
        path,
        prod,
        staging,
        prod_keys={"operator_api_keys": f"ci-prod={PROD_KEY}"},
        staging_keys={"operator_api_keys": f"ci-staging={STAGING_KEY}"},
        **extra,
    )


@pytest.fixture
def two(
    tmp_path: Path,
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    second_restate_stack: RestateStack,
    second_workflow_service: RegisteredWorkflowService,
) -> Two:
    path = environments(tmp_path / "restate-ops.toml", restate_stack, second_restate_stack)
    return Two(path, workflow_service.deployment_id, second_workflow_service.deployment_id)


def bot_settings(config: Path, redis_url: str, redis_prefix: str) -> Settings:
    return load_settings(
        restate_ops_config=str(config),
        redis_url=redis_url,
        audit_stream=f"{redis_prefix}audit",
        port=free_port(),
        slack_bot_token=None,
        watch_interval_s=0,
    )


@dataclass(frozen=True)
class Api:
    http: httpx.AsyncClient
    settings: Settings

    async def doctor(self, key: str, env: str | None = None) -> httpx.Response:
        headers = {"X-Api-Key": key, **({HEADER: env} if env is not None else {})}
        return await self.http.post(DOCTOR, headers=headers, json={})

    async def audited(self, answer: httpx.Response) -> AttemptView:
        return await audit_row(self.settings, answer.headers["X-Request-Id"])


@pytest.fixture
async def api(two: Two, redis_url: str, redis_prefix: str) -> AsyncIterator[Api]:
    settings = bot_settings(two.config, redis_url, redis_prefix)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http,
    ):
        yield Api(http, settings)


def deployment_ids(body: dict[str, Any]) -> set[str]:
    return {item["id"] for item in body["deployments"]["items"]}


# --- HTTP ----------------------------------------------------------------------------------------


async def test_the_header_picks_the_server_and_the_answer_and_audit_name_it(
    api: Api, two: Two
) -> None:
    """Doctor with `X-Restate-Environment: prod` reads prod's server, staging's reads staging's."""
    prod = await api.doctor(PROD_KEY, "prod")
    staging = await api.doctor(STAGING_KEY, "staging")
    assert (prod.status_code, staging.status_code) == (200, 200)
    assert (prod.headers[HEADER], staging.headers[HEADER]) == ("prod", "staging")
    assert two.prod_deployment in deployment_ids(prod.json())
    assert two.staging_deployment not in deployment_ids(prod.json())
    assert two.staging_deployment in deployment_ids(staging.json())
    assert two.prod_deployment not in deployment_ids(staging.json())
    rows = [await api.audited(prod), await api.audited(staging)]
    assert [(r.start.environment, r.start.actor.id, r.outcome) for r in rows] == [
        ("prod", "ci-prod", "succeeded"),
        ("staging", "ci-staging", "succeeded"),
    ]


async def test_without_the_header_the_default_environment_answers(api: Api, two: Two) -> None:
    """No header: the default environment (staging), with its own key, named in the answer."""
    answer = await api.doctor(STAGING_KEY)
    assert answer.status_code == 200
    assert answer.headers[HEADER] == "staging"
    assert two.staging_deployment in deployment_ids(answer.json())


async def test_a_staging_key_is_refused_on_prod(api: Api) -> None:
    """A staging key sent to prod gets 401 saying it is not valid there, audited under prod."""
    answer = await api.doctor(STAGING_KEY, "prod")
    body = answer.json()
    assert answer.status_code == 401
    assert answer.headers[HEADER] == "prod"
    assert body["code"] == "UNAUTHENTICATED"
    assert body["message"] == (
        "This X-Api-Key is not valid for the environment prod: "
        "each environment has its own API keys."
    )
    row = await api.audited(answer)
    assert (row.start.environment, row.start.route, row.outcome) == ("prod", "doctor", "denied")


async def test_an_unknown_environment_is_refused_naming_the_header_and_the_names(
    api: Api,
) -> None:
    """An unknown name: 422 INVALID_INPUT on the header listing the environments, audited under
    none; a caller without any valid key learns no name (401)."""
    answer = await api.doctor(PROD_KEY, "qa")
    stranger = await api.doctor("not-a-key-0123456789", "qa")
    body = answer.json()
    assert answer.status_code == 422
    assert HEADER not in answer.headers
    assert (body["code"], body["data"]) == (
        "INVALID_INPUT",
        {"field": HEADER, "rule": "must be one of prod, staging"},
    )
    row = await api.audited(answer)
    assert (row.start.environment, row.start.actor.id, row.start.args, row.outcome) == (
        None,
        "ci-prod",
        {"environment": "qa"},
        "failed",
    )
    assert stranger.status_code == 401
    assert "prod" not in stranger.text
    assert (await api.audited(stranger)).outcome == "denied"


async def test_readyz_checks_every_environment_and_names_the_one_not_ready(
    tmp_path: Path,
    restate_stack: RestateStack,
    second_restate_stack: RestateStack,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """/readyz is 200 with both servers up; with a third environment down, 503 naming it."""
    dead = f"http://127.0.0.1:{free_port()}"
    both = environments(tmp_path / "both.toml", restate_stack, second_restate_stack)
    three = environments(
        tmp_path / "three.toml", restate_stack, second_restate_stack, dead={"admin_url": dead}
    )
    answers = []
    for config in (both, three):
        async with (
            running_server(bot_settings(config, redis_url, redis_prefix)) as server,
            httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
        ):
            answers.append(await http.get("/readyz"))
    ready, unready = answers
    assert ready.status_code == 200
    assert ready.json()["environments"] == {"prod": "ok", "staging": "ok"}
    assert unready.status_code == 503
    assert unready.json()["checks"]["restateAdmin"].startswith("dead: ")
    assert [name for name, result in unready.json()["environments"].items() if result != "ok"] == [
        "dead"
    ]


# --- CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(two: Two, redis_url: str, redis_prefix: str, tmp_path: Path) -> Cli:
    """The CLI with the environments file; no single-environment variables."""
    env = cli_env("", "", redis_url, f"{redis_prefix}audit")
    for name in ("RESTATE_ADMIN_URL", "RESTATE_INGRESS_URL"):
        env.pop(name)
    return Cli({**env, "RESTATE_OPS_CONFIG": str(two.config)}, tmp_path)


async def test_cli_env_option_and_variable_pick_the_environment(cli: Cli, two: Two) -> None:
    """`--env prod` (global or on the command) reads prod; RESTATE_OPS_ENV and the default too."""
    global_option = await cli("--env", "prod", "doctor", "--json")
    command_option = await cli.with_env(RESTATE_OPS_ENV="staging")(
        "doctor", "--env", "prod", "--json"
    )
    variable = await cli.with_env(RESTATE_OPS_ENV="prod")("doctor", "--json")
    default = await cli("doctor", "--json")
    for result in (global_option, command_option, variable):
        assert result.json()["environment"] == "prod", result.err
        assert two.prod_deployment in deployment_ids(result.json())
    assert default.json()["environment"] == "staging"
    assert two.staging_deployment in deployment_ids(default.json())
    tail = (await cli("audit", "tail", "4", "--json")).json()
    assert [row["environment"] for row in tail] == ["prod", "prod", "prod", "staging"]


async def test_cli_text_names_the_environment_and_prod_stands_out(cli: Cli) -> None:
    """The readout's first line starts with the environment (PROD for prod); an unknown --env is
    bad input naming the environments."""
    prod = await cli.with_env(COLUMNS="120")("doctor", "--env", "prod")
    unknown = await cli("doctor", "--env", "qa")
    assert prod.out.splitlines()[0].startswith("PROD · "), prod.err
    assert unknown.code == 2
    assert "--env: must be one of prod, staging" in unknown.err


# --- config check and serve ----------------------------------------------------------------------


async def test_config_check_probes_both_live_servers(cli: Cli) -> None:
    """Both environments answer: exit 0, one row each with PROD marking, verdict and version."""
    table = await cli.with_env(COLUMNS="160")("config", "check")
    report = await cli("config", "check", "--json")
    assert table.code == 0, table.err
    rows = {line.split()[0]: line.split() for line in table.out.splitlines()[2:4]}
    assert (rows["prod"][1], rows["prod"][3]) == ("PROD", "ok")  # name, PROD, verdict, admin
    assert (rows["staging"][1:3], rows["staging"][4]) == (["*", "-"], "ok")
    assert report.code == 0
    found = {env["name"]: env for env in report.json()["environments"]}
    assert [(found[n]["production"], found[n]["adminReachable"]) for n in ("prod", "staging")] == [
        (True, True),
        (False, True),
    ]
    assert all(env["version"] for env in found.values())
    assert [found[n]["apiKeys"] for n in ("prod", "staging")] == [1, 1]
    assert PROD_KEY not in report.out + table.out
    assert STAGING_KEY not in report.out + table.out


async def test_config_check_exits_5_when_an_environment_is_unreachable(
    cli: Cli, tmp_path: Path, restate_stack: RestateStack, second_restate_stack: RestateStack
) -> None:
    """A third environment whose admin API does not answer: its row says so, exit 5."""
    dead = f"http://user:secret-pw@127.0.0.1:{free_port()}"
    config = environments(
        tmp_path / "three.toml", restate_stack, second_restate_stack, dead={"admin_url": dead}
    )
    result = await cli.with_env(RESTATE_OPS_CONFIG=str(config))("config", "check", "--json")
    found = {env["name"]: env for env in result.json()["environments"]}
    assert result.code == 5
    assert [found[n]["adminReachable"] for n in ("prod", "staging", "dead")] == [True, True, False]
    assert "secret-pw" not in result.out
    assert found["dead"]["adminUrl"].startswith("http://REDACTED@127.0.0.1:")


BAD = """\
default_environment = "prod"

[environments.prod]
admin_url = "http://127.0.0.1:9070"

[environments.staging]
admin_url = "http://127.0.0.1:9071"
probe_timeout_s = "soon"
"""


async def test_config_check_and_serve_refuse_a_bad_file_naming_file_line_and_key(
    cli: Cli, tmp_path: Path
) -> None:
    """A bad value: `config check` and `serve` exit 2 with file:line and key, no traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    with_bad = cli.with_env(RESTATE_OPS_CONFIG=str(bad), PORT=str(free_port()))
    check = await with_bad("config", "check")
    serve = await with_bad("serve")
    expected = f"{bad}:8: environments.staging.probe_timeout_s: "
    for result in (check, serve):
        assert result.code == 2
        assert expected in result.err, result.err
        assert "Traceback" not in result.err
        assert result.out == ""


async def test_a_write_preview_and_its_question_name_prod_and_declining_changes_nothing(
    cli: Cli, restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> None:
    """`redeploy --env prod` previews on PROD and asks "Proceed on PROD?"; "n" registers nothing."""
    async with RestateAdminClient(restate_stack.admin_url) as admin:
        before = sorted(d.id for d in await admin.list_deployments())
        declined = await cli("redeploy", workflow_service.url, "--env", "prod", stdin="n\n")
        after = sorted(d.id for d in await admin.list_deployments())
    assert declined.code == 7, declined.err
    assert "PROD · " in declined.err
    assert "Proceed on PROD? [y/N]" in declined.err
    assert after == before
