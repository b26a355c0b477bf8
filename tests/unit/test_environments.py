"""Environments: the file that declares them, and which one a request acts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config_file import ConfigFileError, load_environments
from bot.settings import SettingsError, environment_specs, load_settings
from core.environments import (
    DEFAULT_ENVIRONMENT,
    Environment,
    Environments,
    EnvironmentSpec,
)
from core.errors import InvalidInput

PROD_KEY = "prod-operator-key-0123456789"

GOOD = """\
default_environment = "staging"

[environments.prod]
admin_url = "http://prod.internal:9070"
ingress_url = "http://prod.internal:8080"
operator_allowlist = ["U0PROD1", "S0PRODOPS"]
operator_api_keys = { env = "TEST_PROD_KEYS" }
channels = ["C0PRODINC"]

[environments.staging]
admin_url = "http://staging.internal:9070"
operator_allowlist = "U0STAGE1, U0PROD1"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "restate-ops.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_each_environment_its_own_people_keys_and_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PROD_KEYS", f"ci={PROD_KEY}")
    specs, default = load_environments(write(tmp_path, GOOD), slack=True)
    by_name = {spec.name: spec for spec in specs}
    assert default == "staging"
    prod, staging = by_name["prod"], by_name["staging"]
    assert prod.production
    assert not staging.production
    assert prod.label == "PROD"
    assert staging.label == "staging"
    assert prod.allowlist is not None
    assert prod.allowlist.group_ids == {"S0PRODOPS"}
    assert staging.allowlist is not None
    assert staging.allowlist.user_ids == {"U0STAGE1", "U0PROD1"}
    key = prod.api_keys.identify(PROD_KEY)
    assert key is not None
    assert key.name == "ci"
    assert staging.api_keys.identify(PROD_KEY) is None  # a prod key is not a staging key
    assert prod.channels == {"C0PRODINC"}
    assert prod.ingress_url == "http://prod.internal:8080/"


@pytest.mark.parametrize(
    ("text", "line", "key", "rule"),
    [
        (GOOD.replace('"http://prod.internal:9070"', '"not a url"'), 4, "admin_url", "URL"),
        (GOOD.replace("channels =", "chanels ="), 8, "chanels", "is not a known key"),
        (GOOD.replace('"U0STAGE1, U0PROD1"', '"alice"'), 12, "operator_allowlist", "'alice'"),
        (
            GOOD.replace('admin_url = "http://staging.internal:9070"\n', ""),
            10,
            "admin_url",
            "is required",
        ),
        (
            GOOD.replace('default_environment = "staging"', 'default_environment = "qa"'),
            1,
            "default_environment",
            "must be one of prod, staging",
        ),
        (
            GOOD.replace("TEST_PROD_KEYS", "TEST_MISSING_VARIABLE"),
            7,
            "operator_api_keys",
            "TEST_MISSING_VARIABLE is not set",
        ),
        (
            GOOD.replace("[environments.staging]", "[environments.all]"),
            10,
            "environments.all",
            "the name must be",
        ),
        (
            GOOD.replace('operator_allowlist = "U0STAGE1, U0PROD1"\n', ""),
            10,
            "operator_allowlist",
            "is required when SLACK_BOT_TOKEN is set",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_the_line_and_the_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int,
    key: str,
    rule: str,
) -> None:
    monkeypatch.setenv("TEST_PROD_KEYS", f"ci={PROD_KEY}")
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as refused:
        load_environments(path, slack=True)
    message = str(refused.value)
    assert f"{path}:{line}: " in message
    assert key in message
    assert rule in message


def test_a_key_in_a_bad_entry_is_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PROD_KEYS", "short-secret-value")  # no name=, too short
    with pytest.raises(ConfigFileError) as refused:
        load_environments(write(tmp_path, GOOD), slack=False)
    assert "operator_api_keys" in str(refused.value)
    assert "short-secret-value" not in str(refused.value)


def test_not_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[environments.qa\n")
    with pytest.raises(ConfigFileError, match=rf"{path}: not valid TOML: .*line 14"):
        load_environments(path, slack=False)


def test_a_channel_bound_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PROD_KEYS", "")
    text = GOOD + 'channels = ["C0PRODINC"]\n'
    with pytest.raises(ConfigFileError, match="C0PRODINC is already bound to prod"):
        load_environments(write(tmp_path, text), slack=False)


def test_without_a_file_the_variables_are_the_environment_default() -> None:
    settings = load_settings(restate_admin_url="http://one.internal:9070")
    specs, default = environment_specs(settings)
    assert default == DEFAULT_ENVIRONMENT
    [spec] = specs
    assert spec.name == DEFAULT_ENVIRONMENT
    assert spec.admin_url == "http://one.internal:9070/"
    assert not spec.production


def test_settings_name_the_variable_for_a_missing_file(tmp_path: Path) -> None:
    settings = load_settings(restate_ops_config=str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match=r"RESTATE_OPS_CONFIG: .*nope.toml: cannot read"):
        environment_specs(settings)


def _env(name: str, channels: frozenset[str] = frozenset()) -> Environment:
    # Resolution reads names and channels only.
    return Environment(
        spec=EnvironmentSpec(name, f"http://{name}:9070", channels=channels),
        admin=None,  # type: ignore[arg-type]
        ingress=None,
        operations=None,  # type: ignore[arg-type]
    )


def test_resolve_prefers_the_named_then_the_channel_then_the_default() -> None:
    envs = Environments([_env("prod", frozenset({"C1"})), _env("staging")], "staging")
    assert envs.resolve("prod").name == "prod"
    assert envs.resolve(None, channel="C1").name == "prod"
    assert envs.resolve("staging", channel="C1").name == "staging"
    assert envs.resolve(None, channel="C2").name == "staging"
    with pytest.raises(InvalidInput) as unknown:
        envs.resolve("qa")
    assert unknown.value.field == "environment"
    assert unknown.value.rule == "must be one of prod, staging"
