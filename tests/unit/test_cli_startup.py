"""`restate-ops --help` stays quick: it imports none of the heavy clients or our models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from bot import services
from bot.cli import audit as cli_audit
from bot.cli.exits import ExitCode

HEAVY = (
    "redis",
    "httpx",
    "httpx2",
    "slack_sdk",
    "slack_bolt",
    "aiohttp",
    "core.models",
    "bot.settings",
)

PROBE = """
import contextlib, io, json, sys
from bot.cli.main import run
with contextlib.redirect_stdout(io.StringIO()) as output:
    code = run(sys.argv[1:])
print(json.dumps({"code": code, "help": output.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["doctor", "--help"]])
def test_help_imports_no_client_and_no_model(args: list[str]) -> None:
    """Help is printed without loading redis, httpx, Slack, pydantic models or settings."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    probe = json.loads(done.stdout)
    assert probe["code"] == 0
    assert "Usage: restate-ops" in probe["help"]
    assert [name for name in HEAVY if name in probe["modules"]] == []


def test_reading_the_audit_trail_loads_no_restate_client() -> None:
    """`audit tail` opens only Redis (down here): no HTTP client, no operations, no Slack."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "audit", "tail", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "REDIS_URL": "redis://127.0.0.1:1/0"},
        cwd=tempfile.gettempdir(),  # no .env from a developer's checkout
    )
    probe = json.loads(done.stdout)
    assert probe["code"] == ExitCode.UNREACHABLE
    assert json.loads(probe["help"])["code"] == "AUDIT_UNAVAILABLE"
    loaded = [
        name
        for name in ("httpx", "httpx2", "slack_sdk", "core.operations", "core.restate.client")
        if name in probe["modules"]
    ]
    assert loaded == []


def test_the_audit_commands_fail_as_fast_as_the_services() -> None:
    """The audit commands' own Redis client keeps the composition root's timeout."""
    assert cli_audit.REDIS_TIMEOUT_S == services.REDIS_TIMEOUT_S
