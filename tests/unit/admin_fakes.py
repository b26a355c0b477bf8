"""A fake Restate (admin API + ingress) behind ``httpx2.MockTransport``, for doctor unit tests.

It answers like restate-server 1.7.12 does: JSON shapes, null columns left out of
SQL rows. Each endpoint, and each kind of SQL query, can be broken on its own: an error answer
(``Reply``), a transport failure (``DOWN``) or no answer at all (``HANG``: the request's read
timeout passes, then a ``ReadTimeout``, as a real transport would raise).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2

from core.restate.client import RestateAdminClient, RestateIngressClient

ADMIN_URL = "http://admin.test:9070"
INGRESS_URL = "http://ingress.test:8080"

#: Names of what can be broken: endpoints, then the kinds of SQL the doctor sends.
Target = Literal[
    "health",
    "version",
    "deployments",
    "services",
    "ingress",
    "counts",
    "failures",
    "stuck",
    "paused",
    "pinned",
]
DOWN: Literal["down"] = "down"
HANG: Literal["hang"] = "hang"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer the fake gives instead of the normal one."""

    status: int
    body: str = ""


Breakage = Reply | Literal["down", "hang"]


def sql_kind(sql: str) -> Target | None:
    """Which doctor query ``sql`` is (the fake answers by kind, not by exact text)."""
    if "FROM sys_deployment" in sql:
        return "pinned"
    if "sys_journal_events" in sql:
        return "paused"
    if "GROUP BY status" in sql:
        return "counts"
    if "completion_result = 'failure'" in sql:
        return "failures"
    if "'backing-off'" in sql:
        return "stuck"
    return None


def deployment(
    dep_id: str, uri: str, created_at: str = "2026-05-09T10:00:00.000000000Z"
) -> dict[str, Any]:
    return {"id": dep_id, "uri": uri, "created_at": created_at, "services": []}


def service(
    name: str, deployment_id: str, *, revision: int = 1, ty: str = "Workflow"
) -> dict[str, Any]:
    return {
        "name": name,
        "ty": ty,
        "revision": revision,
        "deployment_id": deployment_id,
        "handlers": [{"name": "run", "ty": "Workflow"}, {"name": "approve", "ty": "Shared"}],
    }


def paused_event(invocation_id: str, message: str, code: str = "RT0007") -> dict[str, Any]:
    failure = {"error_code": 500, "error_message": message, "restate_doc_error_code": code}
    return {
        "id": invocation_id,
        "event_json": json.dumps({"ty": "Paused", "last_failure": failure}),
    }


@dataclass
class FakeRestate:
    """State of the fake server; mutate the fields, then build clients with ``admin()``."""

    version: str = "1.7.12"
    deployments: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    ingress_services: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Keys are ``Target`` names.
    broken: dict[str, Breakage] = field(default_factory=dict)
    #: How many times each target was asked (``"unknown-sql"`` for SQL it does not recognise).
    asked: Counter[str] = field(default_factory=Counter)
    #: The most requests that were hanging at the same moment (proves probes run concurrently).
    hanging_peak: int = 0
    _hanging: int = 0

    def admin(self, *, timeout: float = 5.0) -> RestateAdminClient:
        return RestateAdminClient(
            ADMIN_URL, timeout=timeout, transport=httpx2.MockTransport(self._handle)
        )

    def ingress(self, *, timeout: float = 5.0) -> RestateIngressClient:
        return RestateIngressClient(
            INGRESS_URL, timeout=timeout, transport=httpx2.MockTransport(self._handle)
        )

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        target, normal = self._route(request)
        self.asked[target] += 1
        breakage = self.broken.get(target)
        if breakage == DOWN:
            raise httpx2.ConnectError("connection refused (fake)", request=request)
        if breakage == HANG:
            # MockTransport ignores timeouts; honour the request's, like a real connection.
            self._hanging += 1
            self.hanging_peak = max(self.hanging_peak, self._hanging)
            try:
                await asyncio.sleep(request.extensions["timeout"]["read"])
            finally:
                self._hanging -= 1
            raise httpx2.ReadTimeout("no answer (fake)", request=request)
        if isinstance(breakage, Reply):
            return httpx2.Response(breakage.status, text=breakage.body)
        return normal

    def _route(self, request: httpx2.Request) -> tuple[str, httpx2.Response]:
        host, path = request.url.host, request.url.path
        if host == "ingress.test" and path == "/restate/health":
            return "ingress", httpx2.Response(200, json={"services": self.ingress_services})
        routes: dict[tuple[str, str], tuple[str, Any]] = {
            ("GET", "/health"): ("health", None),
            ("GET", "/version"): ("version", self._version_body()),
            ("GET", "/deployments"): ("deployments", {"deployments": self.deployments}),
            ("GET", "/services"): ("services", {"services": self.services}),
        }
        if (request.method, path) in routes:
            target, body = routes[(request.method, path)]
            if body is None:
                return target, httpx2.Response(200)
            return target, httpx2.Response(200, json=body)
        if (request.method, path) == ("POST", "/query"):
            return self._query(request)
        return "unknown-path", httpx2.Response(404, json={"message": f"no route {path}"})

    def _query(self, request: httpx2.Request) -> tuple[str, httpx2.Response]:
        if request.headers.get("accept") != "application/json":
            # Restate answers Arrow IPC unless Accept is exactly JSON.
            return "arrow", httpx2.Response(200, content=b"ARROW1")
        kind = sql_kind(json.loads(request.content)["query"])
        if kind is None:
            return "unknown-sql", httpx2.Response(
                500, json={"message": "Datafusion error: unknown query (fake)"}
            )
        return kind, httpx2.Response(200, json={"rows": self.rows.get(kind, [])})

    def _version_body(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "min_admin_api_version": 2,
            "max_admin_api_version": 4,
            "ingress_endpoint": INGRESS_URL + "/",
        }
