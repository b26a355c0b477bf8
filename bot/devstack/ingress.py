"""Drive the sample workflows through Restate's *ingress* (what an application does).

The admin API is the product's business (`core.restate.client`); this is only the traffic that
creates the situations the product then diagnoses and repairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

# What the ingress answers on GET /restate/workflow/{svc}/{key}/output (notes §5.5).
OUTPUT_READY = 200
OUTPUT_FAILED = 500
OUTPUT_NOT_COMPLETED = 470
OUTPUT_NOT_FOUND = 404


class IngressError(RuntimeError):
    """The ingress answered with an unexpected status."""

    def __init__(self, method: str, url: str, response: httpx.Response) -> None:
        super().__init__(f"{method} {url} -> {response.status_code}: {response.text[:500]}")
        self.status_code = response.status_code
        self.body = response.text


@dataclass(frozen=True)
class Submission:
    """The answer to `POST …/run/send`."""

    invocation_id: str
    # "Accepted" for a new run; "PreviouslyAccepted" (with the old id) while a run for the key
    # is still retained.
    status: str

    @property
    def previously_accepted(self) -> bool:
        return self.status == "PreviouslyAccepted"


@dataclass(frozen=True)
class WorkflowOutput:
    """The answer to `GET /restate/workflow/{svc}/{key}/output`."""

    status_code: int
    body: Any  # parsed JSON when the body is JSON, else the text

    @property
    def succeeded(self) -> bool:
        return self.status_code == OUTPUT_READY

    @property
    def failed(self) -> bool:
        return self.status_code == OUTPUT_FAILED

    @property
    def pending(self) -> bool:
        return self.status_code == OUTPUT_NOT_COMPLETED

    @property
    def not_found(self) -> bool:
        return self.status_code == OUTPUT_NOT_FOUND


def _segment(value: str) -> str:
    # Keys are user data: a "/" or "?" in a key must not change the path.
    return quote(value, safe="")


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class WorkflowIngress:
    """A small httpx client for the ingress of one Restate server.

    `async with WorkflowIngress(ingress_url) as ingress: await ingress.submit("Wf", "k", {...})`
    """

    def __init__(
        self,
        ingress_url: str,
        *,
        timeout: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.ingress_url = ingress_url.rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def submit(self, service: str, key: str, payload: Any) -> Submission:
        """Start the workflow's `run` without waiting (`/send`); returns its invocation id."""
        url = f"{self.ingress_url}/{_segment(service)}/{_segment(key)}/run/send"
        response = await self._client.post(url, json=payload)
        if response.status_code not in (200, 202):
            raise IngressError("POST", url, response)
        body = response.json()
        return Submission(invocation_id=str(body["invocationId"]), status=str(body["status"]))

    async def call(self, service: str, key: str, handler: str, payload: Any) -> Any:
        """Call a handler and wait for its result (raises IngressError on a failure)."""
        url = f"{self.ingress_url}/{_segment(service)}/{_segment(key)}/{_segment(handler)}"
        response = await self._client.post(url, json=payload)
        if response.status_code != 200:
            raise IngressError("POST", url, response)
        return _parse(response)

    async def approve(self, service: str, key: str, value: Any) -> None:
        """Resolve the `approval` promise of a workflow key through its shared `approve` handler."""
        await self.call(service, key, "approve", value)

    async def output(self, service: str, key: str) -> WorkflowOutput:
        """The run's output now, without waiting: see `WorkflowOutput` for the meanings."""
        url = f"{self.ingress_url}/restate/workflow/{_segment(service)}/{_segment(key)}/output"
        response = await self._client.get(url)
        return WorkflowOutput(status_code=response.status_code, body=_parse(response))

    async def attach(self, service: str, key: str) -> WorkflowOutput:
        """Wait for the run to finish (`…/attach`) and return its output or failure."""
        url = f"{self.ingress_url}/restate/workflow/{_segment(service)}/{_segment(key)}/attach"
        response = await self._client.get(url)
        return WorkflowOutput(status_code=response.status_code, body=_parse(response))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
