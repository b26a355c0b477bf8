"""The only module that talks HTTP to Restate: one typed async client per API (admin, ingress).

Every admin call restate-ops makes exists exactly once, here. Transport failures and timeouts become
:class:`~core.errors.AdminUnreachable`; any other non-2xx answer becomes
:class:`~core.errors.AdminRequestFailed` carrying Restate's status and message, so callers can
decide per status (a 409 on kill means "already completed", a 404 on purge means "already purged").

Paths are unprefixed: they work on every server version. ``force`` is always sent explicitly on
registration because its default changed in 1.6 (true before, false on unprefixed paths since).

Concurrency (issue 13). Requests take one of ``max_concurrency`` slots before they reach httpx2,
whose pool is twice as large, so a request never waits inside the pool. Waiting for a slot may be
cancelled freely (it is an ``asyncio.Semaphore``); a request that holds one is bounded by the
client's own timeouts, so callers need not cancel it (doctor never does). Callers that need a
shorter bound ask for a view with ``with_timeout``. ``pool_status().problem`` names a wedged pool
(a slot held far past its timeouts, or the pool itself timing out although we bound it) and
``ready()`` fails on it: that is what ``/readyz`` asks.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx2
from pydantic import BaseModel, ValidationError

from core.errors import AdminRequestFailed, AdminUnreachable
from core.restate.wire import (
    Deployment,
    DeploymentList,
    ErrorBody,
    QueryResult,
    RegisteredDeployment,
    Service,
    ServiceList,
    VersionInfo,
)

DEFAULT_TIMEOUT_S = 10.0
#: Admin calls one process has in flight at once; the rest wait their turn in order.
DEFAULT_MAX_CONCURRENCY = 8
#: A request holding a slot past its timeouts by this much means the pool no longer works.
WEDGED_GRACE_S = 5.0
#: How long a pool timeout (impossible while slots bound the pool) keeps ``/readyz`` failing.
POOL_ERROR_MEMORY_S = 60.0

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "restate-ops"


def _segment(value: str) -> str:
    """Quote one path segment so ids and names can never change the path."""
    return quote(value, safe="")


def _restate_message(response: httpx2.Response) -> str:
    try:
        return ErrorBody.model_validate_json(response.content).message or response.reason_phrase
    except ValidationError:
        text = response.text.strip()
        return text[:500] if text else response.reason_phrase


def _tls_context(base_url: str) -> ssl.SSLContext | bool:
    """Verify against the system store for https; for plain http skip loading any CA store.

    The context for http is never used for a handshake; were it ever used, it verifies against
    no CA at all and fails closed.
    """
    if urlsplit(base_url).scheme == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


@dataclass
class _Pool:
    """What every view of one client shares: the httpx2 client, the slots, the health facts."""

    http: httpx2.AsyncClient
    slots: asyncio.Semaphore
    size: int
    #: Loop time by which each in-flight request must have ended (its timeouts plus a grace).
    due: dict[int, float] = field(default_factory=dict)
    waiting: int = 0
    last_pool_timeout: float | None = None
    version: VersionInfo | None = None


@dataclass(frozen=True)
class PoolStatus:
    """A snapshot of one client's admin concurrency, for readiness and the benchmark."""

    in_flight: int
    waiting: int
    slots: int
    #: Why the pool is unusable, or None when it works.
    problem: str | None


class _HttpApi:
    """Shared plumbing: one ``httpx2.AsyncClient`` behind bounded slots, errors translated here."""

    api_name = "admin"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        wedged_grace_s: float = WEDGED_GRACE_S,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        # Twice the slots: a request holding a slot always finds a free connection at once. Only
        # one per slot is kept idle: httpcore2 probes every idle connection on each request.
        limits = httpx2.Limits(
            max_connections=2 * max_concurrency, max_keepalive_connections=max_concurrency
        )
        http = httpx2.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            verify=_tls_context(self.base_url),
            limits=limits,
            headers={"user-agent": USER_AGENT},
        )
        self._pool = _Pool(http, asyncio.Semaphore(max_concurrency), max_concurrency)
        self._timeout = timeout
        self._wedged_grace_s = wedged_grace_s

    def with_timeout(self, seconds: float) -> Self:
        """This client (same pool, slots and cached facts) with another per-request timeout.

        The timeout starts once the request holds a slot: time spent waiting behind our own
        requests is not the server's. Close the original client, not the view.
        """
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._timeout = seconds
        return view

    @property
    def timeout(self) -> float:
        return self._timeout

    def pool_status(self) -> PoolStatus:
        pool = self._pool
        return PoolStatus(len(pool.due), pool.waiting, pool.size, self._pool_problem())

    def _pool_problem(self) -> str | None:
        pool, now = self._pool, asyncio.get_running_loop().time()
        overdue = [due for due in pool.due.values() if due < now]
        if overdue:
            late = now - min(overdue)
            return (
                f"{len(overdue)} of {pool.size} {self.api_name} API slots held "
                f"{late:.0f}s past their timeout: the connection pool is wedged"
            )
        if (
            pool.last_pool_timeout is not None
            and now - pool.last_pool_timeout < POOL_ERROR_MEMORY_S
        ):
            return (
                f"the {self.api_name} API connection pool timed out although restate-ops bounds "
                "its use: connections leaked"
            )
        return None

    async def aclose(self) -> None:
        await self._pool.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        pool = self._pool
        pool.waiting += 1
        try:
            await pool.slots.acquire()  # cancelling this wait leaves nothing behind
        finally:
            pool.waiting -= 1
        loop = asyncio.get_running_loop()
        token = object()
        # connect + write + read each get the timeout; the grace covers our own slowness.
        pool.due[id(token)] = loop.time() + 3 * self._timeout + self._wedged_grace_s
        try:
            response = await pool.http.request(method, path, timeout=self._timeout, **kwargs)
        except httpx2.PoolTimeout as exc:
            pool.last_pool_timeout = loop.time()
            raise AdminUnreachable(
                f"restate-ops could not get a connection to the Restate {self.api_name} API at "
                f"{self.base_url} for {method} {path}: its connection pool is exhausted"
            ) from exc
        except httpx2.TimeoutException as exc:
            raise AdminUnreachable(
                f"Restate {self.api_name} API at {self.base_url} timed out on {method} {path} "
                f"(no answer within {self._timeout:g}s)"
            ) from exc
        except httpx2.TransportError as exc:
            raise AdminUnreachable(
                f"Restate {self.api_name} API at {self.base_url} is unreachable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            del pool.due[id(token)]
            pool.slots.release()
        if response.is_success:
            return response
        raise AdminRequestFailed(method, path, response.status_code, _restate_message(response))

    @staticmethod
    def _parse(model: type[M], response: httpx2.Response, what: str) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise AdminRequestFailed(
                response.request.method,
                response.request.url.path,
                response.status_code,
                f"unexpected {what} body: {exc.errors()[0]['msg']}",
            ) from exc


class RestateAdminClient(_HttpApi):
    """Typed access to the Restate admin API (default port 9070)."""

    async def health(self) -> None:
        await self._request("GET", "/health")

    async def ready(self) -> None:
        """Readiness: the pool works and ``GET /health`` answers; ``AdminUnreachable`` if not."""
        problem = self._pool_problem()
        if problem is not None:
            raise AdminUnreachable(problem)
        await self.health()

    async def version(self, *, fresh: bool = False) -> VersionInfo:
        """``GET /version``, cached per client unless ``fresh`` (the watcher notices upgrades)."""
        if self._pool.version is None or fresh:
            response = await self._request("GET", "/version")
            self._pool.version = self._parse(VersionInfo, response, "version")
        return self._pool.version

    async def list_deployments(self) -> list[Deployment]:
        response = await self._request("GET", "/deployments")
        return self._parse(DeploymentList, response, "deployment list").deployments

    async def register_deployment(
        self, uri: str, *, force: bool, dry_run: bool = False
    ) -> RegisteredDeployment:
        """Register ``uri``; with ``dry_run`` Restate only runs discovery and registers nothing."""
        body: dict[str, Any] = {"uri": uri, "force": force}
        if dry_run:
            body["dry_run"] = True
        response = await self._request("POST", "/deployments", json=body)
        return self._parse(RegisteredDeployment, response, "registration")

    async def delete_deployment(self, deployment_id: str) -> None:
        """Delete a deployment. Restate only implements forced deletion and checks nothing."""
        await self._request(
            "DELETE", f"/deployments/{_segment(deployment_id)}", params={"force": "true"}
        )

    async def list_services(self) -> list[Service]:
        response = await self._request("GET", "/services")
        return self._parse(ServiceList, response, "service list").services

    async def get_service(self, name: str) -> Service:
        response = await self._request("GET", f"/services/{_segment(name)}")
        return self._parse(Service, response, "service")

    async def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL introspection. ``Accept`` must be exactly JSON or Restate answers Arrow."""
        response = await self._request(
            "POST", "/query", json={"query": sql}, headers={"accept": "application/json"}
        )
        return self._parse(QueryResult, response, "query").rows

    async def kill_invocation(self, invocation_id: str) -> None:
        await self._request("PATCH", f"/invocations/{_segment(invocation_id)}/kill")

    async def purge_invocation(self, invocation_id: str) -> None:
        await self._request("PATCH", f"/invocations/{_segment(invocation_id)}/purge")

    async def cancel_invocation(self, invocation_id: str) -> None:
        """Ask it to cancel (1.4+). Paused and backing-off runs stay so until resumed or killed."""
        await self._request("PATCH", f"/invocations/{_segment(invocation_id)}/cancel")

    async def pause_invocation(self, invocation_id: str) -> None:
        """Pause a running or backing-off invocation (1.6+); 409 when it is not running."""
        await self._request("PATCH", f"/invocations/{_segment(invocation_id)}/pause")

    async def resume_invocation(self, invocation_id: str, *, deployment: str = "keep") -> None:
        """Resume a paused invocation (1.5+) on its pinned deployment (``keep``) or ``latest``."""
        await self._request(
            "PATCH",
            f"/invocations/{_segment(invocation_id)}/resume",
            params={"deployment": deployment},
        )

    async def restart_invocation_as_new(self, invocation_id: str) -> None:
        """Start a completed invocation again with its input (1.5+); 422 for workflows."""
        await self._request("PATCH", f"/invocations/{_segment(invocation_id)}/restart-as-new")

    async def clear_state(self, service: str, key: str) -> None:
        """Replace the keyed state with nothing. Applied at once for workflows, even mid-run."""
        await self._request(
            "POST",
            f"/services/{_segment(service)}/state",
            content=json.dumps({"object_key": key, "new_state": {}}),
            headers={"content-type": "application/json"},
        )


class RestateIngressClient(_HttpApi):
    """The one ingress call restate-ops makes: the ingress health probe."""

    api_name = "ingress"

    async def health(self) -> list[str]:
        """``GET /restate/health``: 200 with the names of the services the ingress can route."""
        response = await self._request("GET", "/restate/health")
        try:
            body = response.json()
        except ValueError:
            return []
        services = body.get("services", []) if isinstance(body, dict) else []
        return [str(name) for name in services]
