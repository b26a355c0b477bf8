"""``restate-ops serve`` as a separate process, as in production, and an HTTP client for it."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
from types import TracebackType
from typing import Any, Self

import httpx2
from redis.asyncio import Redis

from bot.devstack import free_port

DOCTOR_PATH = "/api/v2/admin/operator/restate/doctor"
OPERATOR = "bench"
AUDIT_STREAM = "restate-ops:bench-audit"


def bot_env(
    *, admin_url: str, ingress_url: str, redis_url: str, service_url: str
) -> dict[str, str]:
    """The environment ``restate-ops`` reads, pointed at the bench stack (nothing else leaks in)."""
    inherited = ("SLACK_", "RESTATE_", "REDIS_", "OPERATOR_", "READONLY_", "AUDIT_")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(inherited)},
        "RESTATE_ADMIN_URL": admin_url,
        "RESTATE_INGRESS_URL": ingress_url,
        "RESTATE_SERVICE_URL": service_url,
        "REDIS_URL": redis_url,
        "AUDIT_STREAM": AUDIT_STREAM,
    }


class ServeProcess:
    """``restate-ops serve`` on a free loopback port, configured for the bench stack."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.api_key = f"sm_bench_{secrets.token_hex(12)}"
        self._env = {
            **env,
            "OPERATOR_API_KEYS": f"{OPERATOR}={self.api_key}",
            "AUDIT_STREAM": AUDIT_STREAM,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }
        self._dir = tempfile.mkdtemp(prefix="restate-ops-bench-")  # no stray .env is read
        self._proc: asyncio.subprocess.Process | None = None
        #: Operator requests sent; each must leave a start and a finish in the audit stream.
        self.attempts = 0
        self.http = httpx2.AsyncClient(
            base_url=self.url,
            timeout=120,
            trust_env=False,
            headers={"X-Api-Key": self.api_key},
            limits=httpx2.Limits(max_connections=200, max_keepalive_connections=200),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def __aenter__(self) -> Self:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            env=self._env,
            cwd=self._dir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(600):
            try:
                if (await self.http.get("/healthz")).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            if self._proc.returncode is not None:
                raise RuntimeError(f"restate-ops serve exited with {self._proc.returncode}")
            await asyncio.sleep(0.05)
        raise RuntimeError("restate-ops serve did not answer /healthz in 30 s")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.http.aclose()
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def doctor(self) -> dict[str, Any]:
        self.attempts += 1
        response = await self.http.post(DOCTOR_PATH, json={})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def post(self, route: str, body: dict[str, Any]) -> httpx2.Response:
        self.attempts += 1
        return await self.http.post(f"/api/v2/admin/operator/restate/{route}", json=body)

    async def audited_attempts(self, redis_url: str) -> int:
        """Attempts with both a start and a finish in the audit stream (two entries each)."""
        redis = Redis.from_url(redis_url)
        try:
            return int(await redis.xlen(AUDIT_STREAM)) // 2
        finally:
            await redis.aclose()

    async def ready(self) -> bool:
        return (await self.http.get("/readyz")).status_code == 200


COMPONENTS = ("ingress", "admin", "deployments", "services", "invocations")


def unreachable_components(body: dict[str, Any]) -> list[str]:
    """Components a doctor answer reports unreachable (false while Restate is healthy)."""
    return [c for c in COMPONENTS if (body.get(c) or {}).get("status") == "unreachable"]
