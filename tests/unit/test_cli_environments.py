"""The CLI with several environments: the example file loads, output and commands name the env."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import RenderableType

from bot.cli.render import cli_command, doctor_view, verdict_line
from bot.cli.terminal import Io, console
from bot.cli.verdict import Verdict
from bot.config_file import ConfigFileError, load_environments
from core.environments import EnvironmentSpec
from core.models import Advice
from tests.unit.reports import report, result

EXAMPLE = Path(__file__).parents[2] / "restate-ops.example.toml"
PROD = EnvironmentSpec("prod", "http://prod.internal:9070", production=True)
STAGING = EnvironmentSpec("staging", "http://staging.internal:9070")


def printed(*parts: RenderableType) -> str:
    stream = io.StringIO()
    Io(console(stream, width=100), console(io.StringIO()), io.StringIO()).result(*parts)
    return stream.getvalue()


def test_the_example_file_in_the_readme_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """restate-ops.example.toml is a valid environments file: prod (PROD) and staging (default)."""
    for variable in (
        "PROD_OPERATOR_API_KEYS",
        "PROD_READONLY_API_KEYS",
        "STAGING_OPERATOR_API_KEYS",
    ):
        name = variable.split("_")[1].lower()  # operator / readonly: one name per keyring
        monkeypatch.setenv(variable, f"{name}={variable.lower()}-0123456789")
    specs, default = load_environments(EXAMPLE, slack=True)
    by_name = {spec.name: spec for spec in specs}
    assert default == "staging"
    assert sorted(by_name) == ["prod", "staging"]
    assert [by_name["prod"].label, by_name["staging"].label] == ["PROD", "staging"]
    assert by_name["prod"].channels == frozenset({"C0PRODINC"})
    assert len(by_name["prod"].api_keys.keys) == 2
    assert by_name["staging"].service_url == "http://ddwf-staging:9080/"


def test_a_name_both_operator_and_read_only_is_refused_at_its_table(tmp_path: Path) -> None:
    """One key name in both lists of an environment is a located configuration error."""
    path = tmp_path / "restate-ops.toml"
    path.write_text(
        '[environments.prod]\nadmin_url = "http://prod:9070"\n'
        'operator_api_keys = "ci=0123456789abcdef"\nreadonly_api_keys = "ci=fedcba9876543210"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError) as refused:
        load_environments(path, slack=False)
    assert str(refused.value) == (
        f"{path}:1: environments.prod: operator_api_keys / readonly_api_keys: "
        "API key names must be unique"
    )
    assert "0123456789abcdef" not in str(refused.value)


def test_a_suggested_command_carries_the_environment_it_came_from() -> None:
    """With an environment, the command to copy names it, so it acts where the readout was read."""
    advice = Advice(
        kind="recover-stuck-workflow",
        route="recover-stuck-workflow",
        title="Recover",
        preview="Recover one key.",
        args={"serviceName": "InvitationWorkflow", "serviceKey": "inv-1"},
    )
    assert cli_command(advice, "prod") == (
        "restate-ops --env prod recover InvitationWorkflow inv-1"
    )
    assert cli_command(advice) == "restate-ops recover InvitationWorkflow inv-1"


def test_the_verdict_line_names_the_environment_first_and_prod_stands_out() -> None:
    """With several environments the first line reads `PROD · OK · …`; without, it is unchanged."""
    assert verdict_line(Verdict("ok"), PROD).plain == "PROD · OK · every component ok"
    assert verdict_line(Verdict("ok"), STAGING).plain == "staging · OK · every component ok"
    assert verdict_line(Verdict("ok")).plain == "OK · every component ok"


def test_a_doctor_readout_without_an_environment_is_unchanged() -> None:
    """The single-environment readout prints exactly as before (no environment anywhere)."""
    readout = result(report())
    assert printed(*doctor_view(readout, Verdict("ok"), 100)) == printed(
        *doctor_view(readout, Verdict("ok"), 100, None)
    )
    assert "staging" in printed(*doctor_view(readout, Verdict("ok"), 100, STAGING)).splitlines()[0]
