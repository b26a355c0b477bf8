"""`restate-ops --help` stays quick: it imports none of the heavy clients or our models."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
with contextlib.redirect_stdout(io.StringIO()) as help_text:
    code = run(sys.argv[1:])
print(json.dumps({"code": code, "help": help_text.getvalue(), "modules": sorted(sys.modules)}))
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
