"""`restate-ops demo` as a subprocess: it brings its stack up with the trouble in it, and down."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.demo import DEMO_API_KEYS, FAILED_KEYS, LIVE_SERVICE_URL, READY_LINE, RETRYING_KEY
from bot.devstack import free_port

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60


@dataclass
class Demo:
    proc: asyncio.subprocess.Process
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def read_until(self, marker: str) -> None:
        assert self.proc.stdout is not None
        async with asyncio.timeout(START_TIMEOUT_S):
            while not any(marker in line for line in self.lines):
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"demo exited before {marker!r}:\n{self.output}")
                self.lines.append(raw.decode().rstrip("\n"))

    async def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(STOP_TIMEOUT_S):
            out, _ = await self.proc.communicate()
        self.lines += out.decode().splitlines()
        assert self.proc.returncode is not None
        return self.proc.returncode


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """`python -m bot demo --port N` from an empty directory, without Slack; killed if left."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1"}
    for name in ("RESTATE_SERVER_BIN", "RESTATE_VERSION"):
        if name in os.environ:
            env[name] = os.environ[name]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    demo = Demo(proc, port)
    try:
        yield demo
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc (children first found by parent id)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def wait_until_gone(pids: set[int], timeout_s: float = 10) -> set[int]:
    deadline = time.monotonic() + timeout_s
    # Polling /proc: the exit of a grandchild has no event this process could await.
    while (left := {pid for pid in pids if alive(pid)}) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    return left


async def test_demo_serves_the_planted_trouble_and_stops_everything_on_ctrl_c(
    demo: Demo, tmp_path: Path
) -> None:
    """The demo's doctor shows the planted trouble; SIGINT stops every child and frees the ports."""
    await demo.read_until(READY_LINE)
    base_url = f"http://127.0.0.1:{demo.port}"
    children = descendants(demo.proc.pid)
    ports = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", demo.output)}
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as http:
        health = await http.get("/healthz")
        readout = (
            await http.post(
                "/api/v2/admin/operator/restate/doctor",
                headers={"X-Api-Key": DEMO_API_KEYS["demo-operator"]},
                json={},
            )
        ).json()
    cli = await cli_doctor_as_printed(demo.output, tmp_path)

    code = await demo.interrupt()

    assert health.status_code == 200
    failures = {
        (f["serviceName"], f["serviceKey"]) for f in readout["invocations"]["recentFailures"]
    }
    assert set(FAILED_KEYS) <= failures
    stuck = {
        (s["serviceName"], s["serviceKey"], s["status"]) for s in readout["invocations"]["stuck"]
    }
    assert (*RETRYING_KEY, "backing-off") in stuck
    states = {d["serviceUrl"]: d["drainState"] for d in readout["deployments"]["items"]}
    assert len(states) == 2
    assert states[LIVE_SERVICE_URL + "/"] == "active"
    assert sorted(states.values()) == ["active", "drained"]
    assert "Recent failures" in cli
    doctor_line = re.compile(r"^\d\d:\d\d:\d\d POST /api/v2/admin/operator/restate/doctor → 200$")
    assert any(doctor_line.match(line) for line in demo.lines), demo.output
    assert len(children) >= 4  # restate-server, redis-server, two workflow services
    assert code == 0
    assert await wait_until_gone(children) == set()
    assert {port for port in ports if not port_is_free(port)} == set()


async def cli_doctor_as_printed(output: str, cwd: Path) -> str:
    """Run `restate-ops doctor` with the environment the demo told the user to export."""
    exports = next(line for line in output.splitlines() if line.strip().startswith("export "))
    env = dict(pair.split("=", 1) for pair in shlex.split(exports.strip())[1:])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "doctor",
        stdout=asyncio.subprocess.PIPE,
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    # The exit code follows the verdict on the first line (ok 0, attention/degraded 9).
    assert proc.returncode == {"OK": 0, "ATTENTION": 9, "DEGRADED": 9}[text.split()[0]]
    return text


async def test_ctrl_c_during_start_up_stops_what_was_started(demo: Demo) -> None:
    """Interrupted while its servers start, the demo exits 130 and leaves no process behind."""
    await demo.read_until("demo: starting")
    children = descendants(demo.proc.pid)
    code = await demo.interrupt()
    started_later = descendants(demo.proc.pid)
    assert code == 130, demo.output
    assert await wait_until_gone(children | started_later) == set()
    assert "interrupted during start-up" in demo.output
