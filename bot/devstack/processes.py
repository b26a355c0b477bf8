"""Run a real restate-server, redis-server and the sample workflow service on loopback ports.

Each class is an async context manager: `start()` returns once the process answers its health
check (polled, never a fixed sleep), `stop()` terminates it but keeps its ports and data so that
`start()` can bring it back (restart tests), and leaving the context stops it and deletes the
temporary directory it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from bot.devstack.binaries import redis_server_binary, restate_server_binary

LOOPBACK = "127.0.0.1"
_POLL_INTERVAL = 0.05
_LOG_TAIL_LINES = 40
# Ports for the local stack come from [_PORT_FLOOR, start of the ephemeral range).
_PORT_FLOOR = 20000
_PORT_RANDOM = random.SystemRandom()
_HANDED_OUT: set[int] = set()


class StartupError(RuntimeError):
    """A process of the local stack exited early or did not become healthy in time."""


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that are free right now, outside the ephemeral range.

    A port from `bind(0)` comes from the kernel's ephemeral range, the same range every outgoing
    connection draws from: between closing it here and a server binding it, Restate's or the
    tests' own client sockets can take it. Ports below that range are never handed out
    implicitly, so only another process choosing the same random port could race us. This
    process never hands out a port twice (a port chosen for a server that has not bound it yet
    looks free), and all sockets stay open until every port is chosen.
    """
    low = _ephemeral_range()[0]
    candidates = _PORT_RANDOM.sample(range(_PORT_FLOOR, low), k=min(count * 20, low - _PORT_FLOOR))
    sockets: list[socket.socket] = []
    try:
        for port in candidates:
            if port in _HANDED_OUT:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
            if len(sockets) == count:
                ports = [int(s.getsockname()[1]) for s in sockets]
                _HANDED_OUT.update(ports)
                return ports
        raise StartupError(f"no {count} free loopback ports below {low}")
    finally:
        for sock in sockets:
            sock.close()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for implicitly bound ports (Linux; the IANA range elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def free_port() -> int:
    """One loopback port that is free right now."""
    return free_ports(1)[0]


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when this process dies.

    Fixtures and context managers stop children on every normal path; this covers the rest
    (the test runner killed with SIGKILL), so no server outlives the run.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """One child process with a log file, readiness polling and a clean stop."""

    name = "process"
    startup_timeout = 30.0
    stop_timeout = 10.0

    def __init__(self, work_dir: Path | None = None) -> None:
        # A directory we create is ours to delete on close; a given one belongs to the caller.
        self._owns_dir = work_dir is None
        self._work_dir = work_dir or Path(tempfile.mkdtemp(prefix=f"restate-ops-{self.name}-"))
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self._proc: asyncio.subprocess.Process | None = None
        self._closed = False

    # -- to be provided by subclasses -------------------------------------------------------------
    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    async def _is_ready(self) -> bool:
        raise NotImplementedError

    # -- public API -------------------------------------------------------------------------------
    @property
    def work_dir(self) -> Path:
        return self._work_dir

    @property
    def log_path(self) -> Path:
        return self._work_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return _log_tail(self.log_path, lines)

    async def start(self) -> Self:
        """Start the process (no-op when running) and wait until it answers its health check."""
        if self._closed:
            raise RuntimeError(f"{self.name} was closed; create a new one")
        if self.running:
            return self
        # Append: after a restart the log still shows what happened before it.
        log: IO[bytes] = self.log_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._argv(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env(),
                cwd=self._work_dir,
                # Runs only prctl in the forked child: nothing that could need a lock.
                preexec_fn=_die_with_parent(),
            )
        finally:
            log.close()  # the child has its own copy of the descriptor
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """SIGTERM, wait up to `stop_timeout`, then SIGKILL. Ports and data are kept."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), self.stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def kill(self) -> None:
        """SIGKILL at once (a crash, not a shutdown). Ports and data are kept."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()

    async def restart(self) -> Self:
        await self.stop()
        return await self.start()

    async def aclose(self) -> None:
        """Stop the process and delete its temporary directory (when this object created it)."""
        try:
            await self.stop()
        finally:
            self._closed = True
            if self._owns_dir:
                shutil.rmtree(self._work_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        try:
            return await self.start()
        except BaseException:
            await self.aclose()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- internals --------------------------------------------------------------------------------
    async def _wait_ready(self) -> None:
        started = time.monotonic()
        deadline = started + self.startup_timeout
        while True:
            proc = self._proc
            if proc is None or proc.returncode is not None:
                code = None if proc is None else proc.returncode
                raise StartupError(
                    f"{self.name} exited with code {code} during startup; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if await self._is_ready():
                return
            if time.monotonic() >= deadline:
                raise StartupError(
                    f"{self.name} not healthy after {self.startup_timeout:.0f}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            await asyncio.sleep(_POLL_INTERVAL)


async def _http_ok(url: str, timeout_s: float = 1.0) -> bool:
    """True when GET `url` answers 200; connection errors mean "not yet"."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def _all_ok(checks: list[Awaitable[bool]]) -> bool:
    return all(await asyncio.gather(*checks))


class RestateServer(ManagedProcess):
    """A single-node restate-server bound to three free loopback ports.

    Data lives in `work_dir` (`--base-dir`), so `stop()` then `start()` keeps deployments and
    invocations, like a real restart.
    """

    name = "restate-server"
    startup_timeout = 60.0
    # Restate drains its queues on SIGTERM; it normally exits in milliseconds.
    stop_timeout = 15.0

    def __init__(
        self,
        work_dir: Path | None = None,
        *,
        binary: Path | None = None,
        partitions: int = 4,
        startup_timeout: float | None = None,
    ) -> None:
        # Look the binary up first: a missing one must not leave a temp dir behind.
        self._binary = binary or restate_server_binary()
        super().__init__(work_dir)
        self._partitions = partitions
        if startup_timeout is not None:
            self.startup_timeout = startup_timeout
        # Chosen once: a restart must come back on the same addresses.
        self.ingress_port, self.admin_port, self.node_port = free_ports(3)

    @property
    def admin_url(self) -> str:
        return f"http://{LOOPBACK}:{self.admin_port}"

    @property
    def ingress_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ingress_port}"

    @property
    def node_url(self) -> str:
        return f"http://{LOOPBACK}:{self.node_port}"

    def _argv(self) -> list[str]:
        return [
            str(self._binary),
            "--base-dir",
            str(self._work_dir / "data"),
            "--no-logo",
            "--log-disable-ansi-codes",
            "true",
        ]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTATE_")}
        env.update(
            {
                # Every listener on loopback, on our ports (notes §1).
                "RESTATE_BIND_ADDRESS": f"{LOOPBACK}:{self.node_port}",
                "RESTATE_ADVERTISED_ADDRESS": f"{self.node_url}/",
                "RESTATE_ADMIN__BIND_ADDRESS": f"{LOOPBACK}:{self.admin_port}",
                "RESTATE_ADMIN__ADVERTISED_ADMIN_ENDPOINT": f"{self.admin_url}/",
                "RESTATE_INGRESS__BIND_ADDRESS": f"{LOOPBACK}:{self.ingress_port}",
                "RESTATE_INGRESS__ADVERTISED_INGRESS_ENDPOINT": f"{self.ingress_url}/",
                # TCP only: unix sockets under a long temp path can exceed the 108-byte limit.
                "RESTATE_LISTEN_MODE": "tcp",
                # Data is stored per node name, which defaults to the hostname; pin it so the
                # data directory is found again whatever the machine is called.
                "RESTATE_NODE_NAME": "devstack",
                "RESTATE_DEFAULT_NUM_PARTITIONS": str(self._partitions),
                "RESTATE_DISABLE_TELEMETRY": "true",
                # Tests run several servers at once; the 2 GiB default is sized for production.
                "RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE": "256 MiB",
            }
        )
        return env

    async def _is_ready(self) -> bool:
        return await _all_ok(
            [_http_ok(f"{self.admin_url}/health"), _http_ok(f"{self.ingress_url}/restate/health")]
        )


class RedisServer(ManagedProcess):
    """A redis-server on a free loopback port, persisting to an fsync-always AOF in `work_dir`."""

    name = "redis-server"
    startup_timeout = 30.0

    def __init__(self, work_dir: Path | None = None, *, binary: Path | None = None) -> None:
        self._binary = binary or redis_server_binary()
        super().__init__(work_dir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def _argv(self) -> list[str]:
        return [
            str(self._binary),
            "--port",
            str(self.port),
            "--bind",
            LOOPBACK,
            # No RDB snapshots: the AOF alone must carry the data across a restart.
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(self._work_dir),
        ]

    async def _is_ready(self) -> bool:
        return await redis_ping(LOOPBACK, self.port)


async def redis_ping(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when the server answers PING with +PONG (a raw RESP exchange, no client needed)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"PING\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout_s)
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    # "-LOADING" while the AOF is replayed: not ready yet.
    return line.startswith(b"+PONG")


class WorkflowService(ManagedProcess):
    """The sample workflows (`bot.devstack.workflows`) in a hypercorn subprocess on a free port.

    Several instances can run at once (one per deployment); `stop()` or `kill()` turns its
    deployment into a dead one.
    """

    name = "workflow-service"
    startup_timeout = 30.0
    stop_timeout = 5.0

    def __init__(self, work_dir: Path | None = None, *, python: str | None = None) -> None:
        super().__init__(work_dir)
        self._python = python or sys.executable
        self.port = free_port()

    @property
    def url(self) -> str:
        """The deployment URI to register with Restate (trailing slash included)."""
        return f"http://{LOOPBACK}:{self.port}/"

    def _argv(self) -> list[str]:
        return [self._python, "-m", "bot.devstack.workflows", "--port", str(self.port)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # The child runs in its own temp dir: make sure `bot` is importable without an install.
        repo_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo_root, env.get("PYTHONPATH")) if p)
        return env

    async def _is_ready(self) -> bool:
        # The SDK answers GET /health itself once the ASGI app is being served.
        return await _http_ok(f"{self.url}health")
