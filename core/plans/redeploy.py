"""force-redeploy: register the live workflow service URL and return its deployment id.

Nothing is drained or deleted here (the operator guide: "It does not drain or delete old
deployments"). ``force`` is always sent explicitly because Restate's default changed in 1.6: true
before, false on unprefixed paths since, where a re-registration with changed services is a silent
no-op. The plan is the request itself: registration depends on no server fact a preview could see
go stale. The preview checks it with a dry run (:func:`check_redeploy`): Restate runs discovery
against the URL and registers nothing, so a service that does not answer is reported before anyone
confirms, with the services it would register and whether an existing deployment is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import (
    ForceRedeployRequest,
    ForceRedeployResponse,
    RedeployPlan,
    parse_request,
    to_json_dict,
)
from core.restate.client import RestateAdminClient


def plan_redeploy(req: ForceRedeployRequest) -> RedeployPlan:
    return RedeployPlan(service_url=req.service_url, force=req.force)


@dataclass(frozen=True)
class RedeployCheck:
    """What a dry-run registration of a plan found; nothing was registered."""

    #: The deployment the registration would create or overwrite.
    deployment_id: str
    #: True when that deployment exists: it is overwritten in place (or, unforced, kept as is).
    overwrites: bool
    #: ``Name (revision N)`` of each service discovery found.
    services: list[str]


async def check_redeploy(admin: RestateAdminClient, plan: RedeployPlan) -> RedeployCheck:
    """Dry-run the registration. Discovery failures raise like the write (``AdminRequestFailed``
    with Restate's status and message, e.g. META0003 when the service does not answer)."""
    dry = await admin.register_deployment(plan.service_url, force=plan.force, dry_run=True)
    registered = {deployment.id for deployment in await admin.list_deployments()}
    services = [
        f"{service.name} (revision {service.revision})" if service.revision else service.name
        for service in sorted(dry.services, key=lambda service: service.name)
    ]
    return RedeployCheck(dry.id, dry.id in registered, services)


async def force_redeploy(
    admin: RestateAdminClient, req: ForceRedeployRequest, *, expected: RedeployPlan | None = None
) -> ForceRedeployResponse:
    """Register ``req.service_url`` (forced unless ``req.force`` is false); return its id.

    Transport failures raise ``AdminUnreachable``; a refusal (for example discovery failing
    because the service is down, Restate's META0003) raises ``AdminRequestFailed`` with Restate's
    status and message.
    """
    # Validated again: a model built without validation must not reach Restate.
    req = parse_request(ForceRedeployRequest, to_json_dict(req))
    plan = plan_redeploy(req)
    if expected is not None and expected != plan:
        raise ValueError("the confirmed redeploy plan was made for other arguments")
    registered = await admin.register_deployment(plan.service_url, force=plan.force)
    return ForceRedeployResponse(deployment_id=registered.id)
