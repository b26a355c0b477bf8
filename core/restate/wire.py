"""Pydantic models of the Restate admin API's JSON: only the fields restate-ops reads.

Frozen and ``extra="ignore"`` so new server fields never break parsing. Field names are Restate's
(snake_case); the operator-facing models in ``core.models`` use the operator guide's camelCase
names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class VersionInfo(Wire):
    version: str
    min_admin_api_version: int = 0
    max_admin_api_version: int = 0
    ingress_endpoint: str | None = None

    @property
    def release(self) -> tuple[int, int]:
        """``(major, minor)`` of the server, ``(0, 0)`` when unparsable."""
        parts = self.version.split(".")
        try:
            return int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return 0, 0


class Deployment(Wire):
    id: str
    #: HTTP deployments have ``uri``; Lambda deployments have ``arn`` instead.
    uri: str | None = None
    arn: str | None = None
    created_at: str | None = None

    @property
    def endpoint(self) -> str:
        return self.uri or self.arn or ""


class DeploymentList(Wire):
    deployments: list[Deployment]


class Handler(Wire):
    name: str
    #: ``Workflow`` marks a workflow's main handler, ``Shared``/``Exclusive`` the others.
    ty: str | None = None


class Service(Wire):
    name: str
    #: ``Service``, ``VirtualObject`` or ``Workflow``.
    ty: str
    revision: int | None = None
    deployment_id: str | None = None
    handlers: list[Handler] = Field(default_factory=list)

    @property
    def workflow_handler(self) -> str | None:
        """Name of the workflow's main handler (not always ``run``)."""
        return next((h.name for h in self.handlers if h.ty == "Workflow"), None)


class ServiceList(Wire):
    services: list[Service]


class RegisteredDeployment(Wire):
    id: str
    services: list[Service] = Field(default_factory=list)


class QueryResult(Wire):
    #: Null columns are absent from row objects: read them with ``.get()``.
    rows: list[dict[str, Any]]


class ErrorBody(Wire):
    message: str = ""
    restate_code: str | None = None
