"""The three write routes by name: request model, checked preview and executor of each.

``core.operations`` looks a route up here and wraps it in one audited attempt; the rules, plans
and executors themselves are in ``core.plans``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.advice import cleanup_advice, recover_preview, redeploy_advice
from core.errors import AdminUnreachable, InvalidInput
from core.models import (
    Advice,
    ApiModel,
    CleanupPlan,
    CleanupRequest,
    CleanupResponse,
    ForceRedeployRequest,
    ForceRedeployResponse,
    Plan,
    RecoverPlan,
    RecoverRequest,
    RecoverResponse,
    RedeployPlan,
)
from core.plans.cleanup import cleanup_stale_deployments, read_cleanup_plan
from core.plans.recover import read_recover_plan, recover_stuck_workflow
from core.plans.redeploy import check_redeploy, force_redeploy, plan_redeploy
from core.restate.client import RestateAdminClient

WriteResponse = ForceRedeployResponse | CleanupResponse | RecoverResponse
P = TypeVar("P", RedeployPlan, CleanupPlan, RecoverPlan)


async def _run_redeploy(
    admin: RestateAdminClient, req: ForceRedeployRequest, expected: Plan | None
) -> WriteResponse:
    return await force_redeploy(admin, req, expected=_plan_of(RedeployPlan, expected))


async def _run_cleanup(
    admin: RestateAdminClient, req: CleanupRequest, expected: Plan | None
) -> WriteResponse:
    return await cleanup_stale_deployments(admin, req, expected=_plan_of(CleanupPlan, expected))


async def _run_recover(
    admin: RestateAdminClient, req: RecoverRequest, expected: Plan | None
) -> WriteResponse:
    return await recover_stuck_workflow(admin, req, expected=_plan_of(RecoverPlan, expected))


async def _preview_redeploy(admin: RestateAdminClient | None, req: ForceRedeployRequest) -> Advice:
    plan = plan_redeploy(req)
    return redeploy_advice(plan, check=await check_redeploy(required_admin(admin), plan))


async def _preview_cleanup(admin: RestateAdminClient | None, req: CleanupRequest) -> Advice:
    return cleanup_advice(await read_cleanup_plan(required_admin(admin), req))


async def _preview_recover(admin: RestateAdminClient | None, req: RecoverRequest) -> Advice:
    return recover_preview(await read_recover_plan(required_admin(admin), req))


def _plan_of(kind: type[P], plan: Plan | None) -> P | None:
    if plan is not None and not isinstance(plan, kind):
        raise InvalidInput("plan", f"is a {plan.kind} plan, not one for this route")
    return plan


def required_admin(admin: RestateAdminClient | None) -> RestateAdminClient:
    if admin is None:
        raise AdminUnreachable("No Restate admin URL is configured (RESTATE_ADMIN_URL).")
    return admin


@dataclass(frozen=True)
class WriteRoute:
    request_model: type[ApiModel]
    run: Callable[[RestateAdminClient, Any, Plan | None], Awaitable[WriteResponse]]
    preview: Callable[[RestateAdminClient | None, Any], Awaitable[Advice]]


ROUTES: dict[str, WriteRoute] = {
    "force-redeploy": WriteRoute(ForceRedeployRequest, _run_redeploy, _preview_redeploy),
    "cleanup-stale-deployments": WriteRoute(CleanupRequest, _run_cleanup, _preview_cleanup),
    "recover-stuck-workflow": WriteRoute(RecoverRequest, _run_recover, _preview_recover),
}
