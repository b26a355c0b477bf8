"""The peer: Restate's own CLI (npm ``@restatedev/restate``), run command by command.

What an operator would type without restate-ops to learn what doctor tells them: deployments,
services, then SQL for the counts, the recent failures and the stuck invocations. The binary is
installed on first use into ``.cache/`` next to the pinned server (same version).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import interleaved
from bench.report import Row
from bot.devstack.binaries import restate_version

ROOT = Path(__file__).resolve().parents[1]
_GLOB = "node_modules/@restatedev/restate-*/bin/restate"


def restate_cli() -> Path:
    """The ``restate`` binary of the server's version, installed from npm into ``.cache/``."""
    version = restate_version()
    cli_dir = ROOT / ".cache" / f"restate-cli-{version}"
    found = sorted(cli_dir.glob(_GLOB))
    if not found:
        cli_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - fixed arguments
            [  # noqa: S607 - npm from PATH, as `make setup` uses it
                "npm",
                "install",
                "--silent",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(cli_dir),
                f"@restatedev/restate@{version}",
            ],
            check=True,
        )
        found = sorted(cli_dir.glob(_GLOB))
    if not found:
        raise RuntimeError(f"the restate CLI was not installed under {cli_dir}")
    return found[0]


def peer_commands(binary: Path) -> list[list[str]]:
    """The native sequence that answers what doctor answers (SQL as doctor sends it)."""
    stuck = (
        "SELECT id, target_service_name, target_service_key, status, retry_count, "
        "last_failure_error_code, modified_at FROM sys_invocation "
        "WHERE status IN ('backing-off', 'paused') ORDER BY modified_at DESC LIMIT 20"
    )
    failed = (
        "SELECT id, target_service_name, target_service_key, completed_at FROM sys_invocation "
        "WHERE status = 'completed' AND completion_result = 'failure' "
        "ORDER BY modified_at DESC LIMIT 10"
    )
    counts = "SELECT status, count(*) AS n FROM sys_invocation GROUP BY status"
    cli = str(binary)
    return [
        [cli, "deployments", "list"],
        [cli, "services", "list"],
        [cli, "sql", counts],
        [cli, "sql", failed],
        [cli, "sql", stuck],
    ]


async def run_sequence(commands: list[list[str]], admin_url: str) -> float:
    """Wall seconds of the commands one after another (each must succeed)."""
    env = {**os.environ, "RESTATE_ADMIN_URL": admin_url, "NO_COLOR": "1"}
    started = time.perf_counter()
    for argv in commands:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[1:3]} failed ({proc.returncode}): {err.decode()[-300:]}")
    return time.perf_counter() - started


async def cli_vs_native(env: dict[str, str], admin_url: str, samples: int) -> Row:
    """``restate-ops doctor --json`` as a whole process against the native sequence."""
    commands = peer_commands(restate_cli())
    cli = [sys.executable, "-m", "bot", "doctor", "--json"]
    env = {**env, "AUDIT_STREAM": "restate-ops:bench-cli-audit"}  # apart from serve's attempts

    async def ours() -> float:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *cli, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await proc.communicate()
        if proc.returncode not in (0, 8, 9):  # 8, 9: doctor found something to fix or watch
            raise RuntimeError(
                f"restate-ops doctor exited {proc.returncode}: {err.decode()[-300:]}"
            )
        return time.perf_counter() - started

    async def native() -> float:
        return await run_sequence(commands, admin_url)

    pair = await interleaved(ours, native, samples)
    return Row(
        "`restate-ops doctor` process ÷ native `restate` CLI sequence",
        f"{pair.ratio:.1f} ({pair.a * 1000:.0f} / {pair.b * 1000:.0f} ms)",
        "≤ 1.0",
        pair.ratio <= 1.0,
        {"ours_ms": pair.a * 1000, "native_ms": pair.b * 1000},
        note="process start-up and imports; `python -m bench.cli_startup` breaks them down",
    )
