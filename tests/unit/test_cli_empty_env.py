"""Review findings: `--env ""` (a script's unset variable) never means the default environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from bot.cli.exits import ExitCode

PROBE = """
import contextlib, io, json, sys
from bot.cli.main import run
with contextlib.redirect_stderr(io.StringIO()) as err:
    code = run(sys.argv[1:])
print(json.dumps({"code": code, "err": err.getvalue()}))
"""


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": os.environ["PATH"],
            # Nothing answers here: a command that ran would exit 5, not 2.
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "RESTATE_ADMIN_URL": "http://127.0.0.1:1",
            "RESTATE_INGRESS_URL": "",
        },
        cwd=tempfile.gettempdir(),  # no .env from a developer's checkout
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_an_empty_env_option_is_refused_before_anything_runs() -> None:
    """`restate-ops --env "" doctor` and `doctor --env ""` are bad input naming --env."""
    for args in (("--env", "", "doctor"), ("doctor", "--env", "")):
        result = _run(*args)

        assert result["code"] == ExitCode.BAD_INPUT
        assert "--env" in str(result["err"])
        assert "must name an environment: one of default" in str(result["err"])
