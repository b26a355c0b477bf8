"""A fake Restate admin API for the write routes, served through ``httpx2.MockTransport``.

:class:`FakeAdmin` keeps deployments, services, invocation rows, state and promises, and answers
like Restate 1.7.12 does: kill of a completed invocation is 409, purge of an active one is 409, a
second purge is 404, purging a workflow run also drops its state and promises. Individual answers
can be replaced per request to inject failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from core.restate.client import RestateAdminClient

WF = "IdentityRecoveryWorkflow"
KEY = "invitation_01j8m7k2q3r4s5t6u7v8w9x0y1"
RUN_ID = "inv_1run"

Override = Callable[[httpx2.Request], httpx2.Response | None]


def reply(status: int, body: Any = None) -> httpx2.Response:
    if body is None:
        return httpx2.Response(status)
    return httpx2.Response(status, json=body)


def restate_error(status: int, message: str) -> httpx2.Response:
    return reply(status, {"message": message, "restate_code": None})


def literals_of(sql: str, *columns: str) -> list[str]:
    """The string literals the SQL compares ``columns`` with, in order (``''`` unescaped)."""
    found = []
    for column in columns:
        match = re.search(rf"{column} = '((?:[^']|'')*)'", sql)
        assert match is not None, f"{column} not filtered in {sql}"
        found.append(match.group(1).replace("''", "'"))
    return found


@dataclass
class FakeAdmin:
    """A small in-memory Restate admin API; ``requests`` records everything that reached it."""

    deployments: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    #: sys_invocation rows plus ``service``, ``key``, ``handler`` and ``pinned`` (deployment id).
    invocations: list[dict[str, Any]] = field(default_factory=list)
    state: dict[tuple[str, str], int] = field(default_factory=dict)
    promises: dict[tuple[str, str], int] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)

    # --- fixtures ----------------------------------------------------------------------------

    def add_workflow(self, name: str = WF, handler: str = "run", deployment: str = "dp_a") -> None:
        self.services.append(
            {
                "name": name,
                "ty": "Workflow",
                "revision": 1,
                "deployment_id": deployment,
                "handlers": [
                    {"name": handler, "ty": "Workflow"},
                    {"name": "approve", "ty": "Shared"},
                ],
            }
        )

    def add_run(
        self,
        status: str,
        result: str | None = None,
        *,
        run_id: str = RUN_ID,
        key: str = KEY,
        handler: str = "run",
        pinned: str | None = None,
        service: str = WF,
    ) -> None:
        row: dict[str, Any] = {"id": run_id, "status": status, "service": service, "key": key}
        row["handler"] = handler
        if result is not None:
            row["completion_result"] = result
        if pinned is not None:
            row["pinned"] = pinned
        self.invocations.append(row)

    def add_deployment(self, dep_id: str, uri: str, created_at: str) -> None:
        self.deployments.append(
            {"id": dep_id, "uri": uri, "created_at": created_at, "services": [{"name": WF}]}
        )

    def fail(self, method: str, path: str, response: httpx2.Response | Exception) -> None:
        """Answer every ``method path`` (path prefix) with ``response``, or raise it."""

        def override(request: httpx2.Request) -> httpx2.Response | None:
            if request.method != method or not request.url.path.startswith(path):
                return None
            if isinstance(response, Exception):
                raise response
            return response

        self.overrides.append(override)

    # --- what tests look at ------------------------------------------------------------------

    @property
    def writes(self) -> list[str]:
        """Every request that can change something (``POST /query`` reads only)."""
        return [
            f"{r.method} {r.url.path}"
            for r in self.requests
            if r.method != "GET" and r.url.path != "/query" and b'"dry_run"' not in r.content
        ]

    def client(self) -> RestateAdminClient:
        return RestateAdminClient("http://admin.test", transport=httpx2.MockTransport(self.handle))

    # --- the fake API --------------------------------------------------------------------------

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        for override in self.overrides:
            answer = override(request)
            if answer is not None:
                return answer
        method, path = request.method, request.url.path
        if path == "/query":
            return self._query(json.loads(request.content)["query"])
        if method == "GET" and path == "/deployments":
            return reply(200, {"deployments": self.deployments})
        if method == "POST" and path == "/deployments":
            return self._register(json.loads(request.content))
        if method == "DELETE" and path.startswith("/deployments/"):
            return self._delete_deployment(path.rsplit("/", 1)[1])
        if method == "GET" and path == "/services":
            return reply(200, {"services": self.services})
        if method == "GET" and path.startswith("/services/"):
            name = path.split("/")[2]
            found = [s for s in self.services if s["name"] == name]
            if not found:
                return restate_error(404, f"The requested service '{name}' does not exist")
            return reply(200, found[0])
        if method == "POST" and path.endswith("/state"):
            body = json.loads(request.content)
            assert body == {"object_key": body["object_key"], "new_state": {}}
            self.state.pop((path.split("/")[2], body["object_key"]), None)
            return reply(202)
        if method == "PATCH" and path.startswith("/invocations/"):
            _, _, invocation_id, action = path.split("/")
            return self._patch_invocation(invocation_id, action)
        return restate_error(404, f"no route {method} {path}")

    def _register(self, body: dict[str, Any]) -> httpx2.Response:
        """A registration; a dry run answers with the id it would use and changes nothing."""
        same = [d for d in self.deployments if d["uri"].rstrip("/") == body["uri"].rstrip("/")]
        dep_id = same[-1]["id"] if same else "dp_new"
        if body.get("dry_run"):
            return reply(200, {"id": dep_id, "services": self.services})
        return reply(201, {"id": "dp_new", "services": []})

    def _delete_deployment(self, dep_id: str) -> httpx2.Response:
        # Restate implements only forced deletion: anything else is 501 with an empty body.
        if self.requests[-1].url.params.get("force") != "true":
            return reply(501)
        before = len(self.deployments)
        self.deployments = [d for d in self.deployments if d["id"] != dep_id]
        if len(self.deployments) == before:
            return restate_error(
                404, f"not found in the schema registry: deployment with id '{dep_id}'"
            )
        return reply(202)

    def _patch_invocation(self, invocation_id: str, action: str) -> httpx2.Response:
        row = next((r for r in self.invocations if r["id"] == invocation_id), None)
        if row is None:
            return restate_error(404, f"The requested invocation '{invocation_id}' does not exist")
        completed = row["status"] == "completed"
        if action == "kill":
            if completed:
                return restate_error(
                    409, f"The invocation '{invocation_id}' was already completed."
                )
            row.update(status="completed", completion_result="failure")
            return reply(200)
        assert action == "purge"
        if not completed:
            return restate_error(409, f"The invocation '{invocation_id}' is not yet completed.")
        self.invocations.remove(row)
        # Purging a workflow run deletes the key's state and promises too.
        self.state.pop((row["service"], row["key"]), None)
        self.promises.pop((row["service"], row["key"]), None)
        return reply(200)

    def _query(self, sql: str) -> httpx2.Response:
        if "FROM sys_deployment" in sql:
            return reply(200, {"rows": self._pinned_rows()})
        service, key, handler = literals_of(
            sql, "target_service_name", "target_service_key", "target_handler_name"
        )
        runs = [
            r
            for r in self.invocations
            if (r["service"], r["key"], r["handler"]) == (service, key, handler)
        ]
        if sql.startswith("SELECT (SELECT count(*)"):
            row = {
                "runs": len(runs),
                "state_rows": self.state.get((service, key), 0),
                "promises": self.promises.get((service, key), 0),
            }
            return reply(200, {"rows": [row]})
        columns = ("id", "status", "completion_result")
        return reply(200, {"rows": [{c: r[c] for c in columns if c in r} for r in runs]})

    def _pinned_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": d["id"],
                "pinned_active": sum(
                    1
                    for r in self.invocations
                    if r.get("pinned") == d["id"] and r["status"] != "completed"
                ),
            }
            for d in self.deployments
        ]
