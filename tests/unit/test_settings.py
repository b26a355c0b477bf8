"""Typed settings: URLs, the allowlist and the key ring parsed at start-up, errors that name the
variable and never echo a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

VARIABLES = [name.upper() for name in Settings.model_fields]
KEY = "0123456789abcdef-secret"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of ours from the developer's shell, and no .env from the working directory."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def error_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load(monkeypatch, **env)
    return str(caught.value)


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing set, every setting has the README's default."""
    settings = load(monkeypatch)
    assert (
        str(settings.restate_admin_url),
        str(settings.restate_ingress_url),
        settings.restate_service_url,
        str(settings.redis_url),
        settings.audit_stream,
        settings.pending_action_ttl_s,
        settings.probe_timeout_s,
        str(settings.slack_api_url),
        (settings.host, settings.port),
        settings.slack_enabled,
        settings.api_keys.keys,
    ) == (
        "http://127.0.0.1:9070/",
        "http://127.0.0.1:8080/",
        None,
        "redis://127.0.0.1:6379/0",
        "restate-ops:audit",
        900,
        5.0,
        "https://slack.com/api/",
        ("127.0.0.1", 3000),
        False,
        (),
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RESTATE_ADMIN_URL": ""}, "RESTATE_ADMIN_URL: Input should be a valid URL"),
        ({"RESTATE_ADMIN_URL": "127.0.0.1:9070"}, "RESTATE_ADMIN_URL: "),
        ({"RESTATE_SERVICE_URL": "ftp://ddwf"}, "RESTATE_SERVICE_URL: URL scheme should be"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL: URL scheme should be"),
        ({"AUDIT_STREAM": ""}, "AUDIT_STREAM: "),
        ({"PORT": ""}, "PORT: "),
        ({"PORT": "70000"}, "PORT: "),
        ({"PROBE_TIMEOUT_S": "0"}, "PROBE_TIMEOUT_S: "),
        ({"OPERATOR_ALLOWLIST": "U0123ABCD,oncall"}, "OPERATOR_ALLOWLIST: 'oncall' is not"),
        ({"OPERATOR_API_KEYS": "ops=short"}, "OPERATOR_API_KEYS: each entry must be"),
        ({"READONLY_API_KEYS": "nokey"}, "READONLY_API_KEYS: each entry must be"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    """An empty or malformed value stops start-up with a message that starts with the variable."""
    assert error_of(monkeypatch, **env).startswith(expected)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"OPERATOR_API_KEYS": f"ops={KEY}", "READONLY_API_KEYS": f"ops={KEY}x"},
            "OPERATOR_API_KEYS / READONLY_API_KEYS: API key names must be unique",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, "OPERATOR_ALLOWLIST: "),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "OPERATOR_ALLOWLIST": "U0123ABCD"}, "SLACK_SIGNING_SECRET:"),
    ],
)
def test_cross_field_errors_name_their_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    """Rules across several variables still say which variables to fix."""
    assert error_of(monkeypatch, **env).startswith(expected)


def test_errors_never_echo_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad key list is reported without the keys in it."""
    message = error_of(monkeypatch, OPERATOR_API_KEYS=f"ops={KEY},bad name={KEY}")
    assert "OPERATOR_API_KEYS" in message
    assert KEY not in message


def test_lists_and_key_rings_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The allowlist and both key lists arrive parsed, with each key's role."""
    settings = load(
        monkeypatch,
        OPERATOR_ALLOWLIST=" U0123ABCD , S0456EFGH ",
        OPERATOR_API_KEYS=f"ops={KEY}",
        READONLY_API_KEYS=f"viewer={KEY}-ro",
    )
    assert (settings.allowlist.user_ids, settings.allowlist.group_ids) == (
        frozenset({"U0123ABCD"}),
        frozenset({"S0456EFGH"}),
    )
    assert [(key.name, key.role) for key in settings.api_keys.keys] == [
        ("ops", "operator"),
        ("viewer", "read-only"),
    ]
    assert KEY not in repr(settings)


def test_empty_optional_settings_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`VAR=` for an optional setting means unset: no ingress probe, no Slack, no retention."""
    settings = load(
        monkeypatch,
        RESTATE_INGRESS_URL="",
        RESTATE_SERVICE_URL="",
        SLACK_BOT_TOKEN="",
        AUDIT_RETENTION_DAYS="",
        OPERATOR_ALLOWLIST="",
    )
    assert (
        settings.restate_ingress_url,
        settings.restate_service_url,
        settings.slack_enabled,
        settings.audit_retention,
        settings.operator_allowlist,
    ) == (None, None, False, None, None)


def test_dotenv_in_the_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A .env file supplies values the environment does not."""
    (tmp_path / ".env").write_text("RESTATE_SERVICE_URL=http://ddwf:9080/v1\nREDIS_URL=unix:///r\n")
    settings = load(monkeypatch)
    assert (str(settings.restate_service_url), str(settings.redis_url)) == (
        "http://ddwf:9080/v1",
        "unix:///r",
    )
