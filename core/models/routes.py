"""The route bodies (requests and responses) and their validation into ``InvalidInput``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import StrictBool, ValidationError, field_validator

from core.errors import InvalidInput
from core.models.base import IDENTIFIER, ApiModel, DrainState


def require_http_url(field: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{field} must be a non-empty URL")
    if not value.isprintable():  # control characters, lone surrogates (CLI argv may carry them)
        raise ValueError(f"{field} must be printable text")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{field} must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise ValueError(f"{field} must include a host")
    return value


def _require_identifier(field: str, value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise ValueError(f"{field} must match ^[a-zA-Z0-9_-]+$")
    return value


class DoctorRequest(ApiModel):
    """doctor takes an empty JSON object."""


class _ServiceUrlBody(ApiModel):
    """A body whose ``serviceUrl`` must be an absolute http(s) URL with a host."""

    service_url: str

    @field_validator("service_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return require_http_url("serviceUrl", value)


class ForceRedeployRequest(_ServiceUrlBody):
    force: StrictBool = True


class ForceRedeployResponse(ApiModel):
    acknowledged: Literal[True] = True
    deployment_id: str


class CleanupRequest(_ServiceUrlBody):
    force_drain: StrictBool = False


CleanupAction = Literal["kept", "deleted", "skipped", "failed"]


class CleanupItem(ApiModel):
    id: str
    service_url: str
    action: CleanupAction
    #: Why it was kept, skipped or failed (e.g. "draining", "latest-for-service").
    reason: str | None = None
    drain_state: DrainState = "unknown"
    pinned_invocations: int | None = None
    latest_for: list[str] = []
    error: str | None = None
    #: What changed since the preview this cleanup was confirmed from, when something did.
    changed: str | None = None


class CleanupResponse(ApiModel):
    acknowledged: Literal[True] = True
    #: Beyond the operator guide, which only logs these: one row per deployment.
    report: list[CleanupItem] = []


class RecoverRequest(ApiModel):
    service_name: str
    service_key: str

    @field_validator("service_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _require_identifier("serviceName", value)

    @field_validator("service_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _require_identifier("serviceKey", value)


class RecoverResponse(ApiModel):
    acknowledged: Literal[True] = True
    killed: list[str] = []
    purged: list[str] = []
    state_cleared: bool = False
    #: e.g. promises that outlived the purge: the next run would see them pre-resolved.
    warnings: list[str] = []


RequestModel = TypeVar("RequestModel", bound=ApiModel)


def parse_request(model: type[RequestModel], data: Mapping[str, Any] | None) -> RequestModel:
    """Validate a route body; the first broken rule becomes :class:`InvalidInput`."""
    try:
        return model.model_validate(dict(data or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of this request"
        elif first["type"] in ("bool_type", "bool_parsing"):
            message = "must be a boolean"
        elif first["type"] == "string_type":
            message = "must be a string"
        if message.startswith(f"{field} "):
            message = message[len(field) + 1 :]
        raise InvalidInput(field, message) from exc
