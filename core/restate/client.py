"""The only module that talks HTTP to Restate: one typed async client per API (admin, ingress).

Every admin call restate-ops makes exists exactly once, here. Transport failures and timeouts become
:class:`~core.errors.AdminUnreachable`; any other non-2xx answer becomes
:class:`~core.errors.AdminRequestFailed` carrying Restate's status and message, so callers can
decide per status (a 409 on kill means "already completed", a 404 on purge means "already purged").

Paths are unprefixed: they work on every server version. ``force`` is always sent explicitly on
registration because its default changed in 1.6 (true before, false on unprefixed paths since).
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
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

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "restate-ops"


def _segment(value: str) -> str:
    """Quote one path segment so ids and names can never change the path."""
    return quote(value, safe="")


def _restate_message(response: httpx.Response) -> str:
    try:
        return ErrorBody.model_validate_json(response.content).message or response.reason_phrase
    except ValidationError:
        text = response.text.strip()
        return text[:500] if text else response.reason_phrase


class _HttpApi:
    """Shared plumbing: one ``httpx.AsyncClient``, error translation at the edge."""

    api_name = "admin"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"user-agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise AdminUnreachable(
                f"Restate {self.api_name} API at {self.base_url} timed out on {method} {path}"
            ) from exc
        except httpx.TransportError as exc:
            raise AdminUnreachable(
                f"Restate {self.api_name} API at {self.base_url} is unreachable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if response.is_success:
            return response
        raise AdminRequestFailed(method, path, response.status_code, _restate_message(response))

    @staticmethod
    def _parse(model: type[M], response: httpx.Response, what: str) -> M:
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

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self._version: VersionInfo | None = None

    async def health(self) -> None:
        await self._request("GET", "/health")

    async def version(self) -> VersionInfo:
        """``GET /version``, read once per client: the server does not change under us."""
        if self._version is None:
            response = await self._request("GET", "/version")
            self._version = self._parse(VersionInfo, response, "version")
        return self._version

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
