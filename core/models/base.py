"""The base of every operator-facing model, and the small vocabularies they share."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

ComponentStatus = Literal["ok", "degraded", "unreachable"]
DrainState = Literal["active", "draining", "drained", "unknown"]
Route = Literal["doctor", "force-redeploy", "cleanup-stale-deployments", "recover-stuck-workflow"]
WRITE_ROUTES: frozenset[str] = frozenset(
    {"force-redeploy", "cleanup-stale-deployments", "recover-stuck-workflow"}
)

IDENTIFIER = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_RECENT_FAILURES = 20


class ApiModel(BaseModel):
    """Frozen; snake_case attributes, the operator guide's camelCase names in JSON."""

    model_config = ConfigDict(
        frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """The JSON shape of a model, with the operator guide's field names."""
    return model.model_dump(mode="json", by_alias=True)
