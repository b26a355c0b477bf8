"""force-redeploy: register the live workflow service URL and return its deployment id.

Nothing is drained or deleted here (the seed: "It does not drain or delete old deployments").
``force`` is always sent explicitly because Restate's default changed in 1.6: true before, false on
unprefixed paths since, where a re-registration with changed services is a silent no-op.
"""

from __future__ import annotations

from core.models import (
    ForceRedeployRequest,
    ForceRedeployResponse,
    parse_request,
    to_json_dict,
)
from core.restate.client import RestateAdminClient


async def force_redeploy(
    admin: RestateAdminClient, req: ForceRedeployRequest
) -> ForceRedeployResponse:
    """Register ``req.service_url`` (forced unless ``req.force`` is false); return its id.

    Transport failures raise ``AdminUnreachable``; a refusal (for example discovery failing
    because the service is down, Restate's META0003) raises ``AdminRequestFailed`` with Restate's
    status and message.
    """
    # Validated again: a model built without validation must not reach Restate.
    req = parse_request(ForceRedeployRequest, to_json_dict(req))
    registered = await admin.register_deployment(req.service_url, force=req.force)
    return ForceRedeployResponse(deployment_id=registered.id)
