"""Review findings: a value the environments file reads from a variable is never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config_file import ConfigFileError, load_environments

SECRET = "ci=0123456789abcdef-not-for-logs"

FILE = """\
[environments.prod]
admin_url = "http://prod.internal:9070"
operator_allowlist = { env = "TEST_PROD_KEYS" }
channels = ["C0PRODINC", { env = "TEST_PROD_KEYS" }]
"""


def test_a_reference_to_the_wrong_variable_never_prints_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowlist or channel list read from the key variable by mistake is refused naming
    the file, line, key and variable, without the keys."""
    monkeypatch.setenv("TEST_PROD_KEYS", f"{SECRET}, ci2=fedcba9876543210-also-secret")
    path = tmp_path / "restate-ops.toml"
    path.write_text(FILE, encoding="utf-8")

    with pytest.raises(ConfigFileError) as refused:
        load_environments(path, slack=True)

    message = str(refused.value)
    assert f"{path}:3: environments.prod.operator_allowlist: " in message
    assert f"{path}:4: environments.prod.channels: " in message
    assert "<from TEST_PROD_KEYS>" in message
    assert "0123456789abcdef" not in message
    assert "fedcba9876543210" not in message
