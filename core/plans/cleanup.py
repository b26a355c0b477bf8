"""cleanup-stale-deployments: keep the deployment with the given URL, delete the drained others.

Restate deletes whatever it is told to (``DELETE /deployments/{id}?force=true`` checks nothing), so
the drain check is ours (``core.plans.rules.drain_state``), made from facts read just before
deleting. Only drained deployments are deleted unless ``forceDrain`` is set; other deployments
registered under the kept URL are never deleted. Each deployment gets one row in the report; a
failed delete marks its row ``failed`` and never fails the call (the operator guide).

:func:`plan_cleanup` is pure: the doctor readout's deployments (for advice) or freshly read facts
(for a preview or the write) in, a :class:`~core.models.CleanupPlan` out. The write plans again
from fresh facts and runs only what both plans agree on: a deployment the preview did not offer
for deletion is never deleted, and every difference is written into its row's ``changed``.
"""

from __future__ import annotations

import logging

from core.errors import AdminRequestFailed, AdminUnreachable, DeploymentNotFound, PreviewOutdated
from core.models import (
    CleanupAction,
    CleanupItem,
    CleanupPlan,
    CleanupRequest,
    CleanupResponse,
    CleanupStep,
    DeploymentItem,
    DrainState,
    parse_request,
    to_json_dict,
)
from core.plans.rules import newest, same_url
from core.redact import redact_text
from core.restate.client import RestateAdminClient
from core.restate.queries import deployment_facts

log = logging.getLogger(__name__)

# Reasons written into the report rows.
KEPT = "matches-service-url"
DUPLICATE = "duplicate-service-url"
DRAINED = "drained"
FORCED = "force-drain"
ALREADY_GONE = "already-gone"
LATEST = "latest-for-service"
DRAINING = "draining"
USAGE_UNKNOWN = "usage-unknown"
DELETE_FAILED = "delete-failed"
NOT_IN_PREVIEW = "not-in-preview"

_SKIP_REASONS: dict[DrainState, str] = {
    "active": LATEST,
    "draining": DRAINING,
    "unknown": USAGE_UNKNOWN,
}


def plan_cleanup(
    items: list[DeploymentItem],
    service_url: str,
    *,
    force_drain: bool = False,
    usage_error: str | None = None,
) -> CleanupPlan:
    """Keep the newest deployment registered under ``service_url``; decide every other one.

    Raises ``DeploymentNotFound`` when none is registered under it.
    """
    matches = [d for d in items if same_url(d.service_url, service_url)]
    if not matches:
        shown = redact_text(service_url)  # its user info may be a password
        raise DeploymentNotFound(
            f"No registered deployment has the service URL {shown}; nothing was deleted. Copy "
            "deployments.items[].serviceUrl from doctor exactly.",
            data={"serviceUrl": shown, "registeredCount": len(items)},
        )
    keep = newest(matches)
    steps = [CleanupStep(deployment=keep, action="keep", reason=KEPT)]
    steps += [_decide(d, keep, force_drain) for d in items if d.id != keep.id]
    return CleanupPlan(
        service_url=service_url, force_drain=force_drain, steps=steps, usage_error=usage_error
    )


def _decide(item: DeploymentItem, keep: DeploymentItem, force_drain: bool) -> CleanupStep:
    if same_url(item.service_url, keep.service_url):
        # Possible after a PATCH: never delete a registration of the URL the operator keeps.
        return CleanupStep(deployment=item, action="skip", reason=DUPLICATE)
    if item.drain_state == "drained":
        return CleanupStep(deployment=item, action="delete", reason=DRAINED)
    if force_drain:
        return CleanupStep(deployment=item, action="delete", reason=FORCED)
    return CleanupStep(deployment=item, action="skip", reason=_SKIP_REASONS[item.drain_state])


async def read_cleanup_plan(admin: RestateAdminClient, req: CleanupRequest) -> CleanupPlan:
    """Read the deployments and their usage now, and plan. Changes nothing."""
    facts = await deployment_facts(admin)
    return plan_cleanup(
        facts.items, req.service_url, force_drain=req.force_drain, usage_error=facts.usage_error
    )


async def cleanup_stale_deployments(
    admin: RestateAdminClient, req: CleanupRequest, *, expected: CleanupPlan | None = None
) -> CleanupResponse:
    """Keep the deployment registered under ``req.service_url``; delete or skip every other one.

    ``expected`` is the plan the operator confirmed (a preview); without one the write runs the
    plan it makes now. Raises ``AdminUnreachable`` when the deployments cannot be listed for a
    transport reason, ``AdminRequestFailed`` (status kept) for any other listing failure,
    ``DeploymentNotFound`` when no deployment has the URL, and ``PreviewOutdated`` when the
    deployment to keep is another one than the preview said. Nothing is deleted in those cases.
    """
    # Validated again: a model built without validation must not reach Restate.
    req = parse_request(CleanupRequest, to_json_dict(req))
    now = await read_cleanup_plan(admin, req)
    confirmed = expected or now
    if (confirmed.service_url, confirmed.force_drain) != (req.service_url, req.force_drain):
        raise ValueError("the confirmed cleanup plan was made for other arguments")
    if confirmed.keep.id != now.keep.id:
        change = f"the deployment to keep is now {now.keep.id}, not {confirmed.keep.id}"
        raise PreviewOutdated(f"Cleanup refused: {change}. Nothing was deleted.", [change])
    report = [_row(now.steps[0], "kept")]
    before = {step.deployment.id: step for step in confirmed.steps}
    for step in now.steps[1:]:
        report.append(await _carry_out(admin, step, before.pop(step.deployment.id, None), now))
    # Deployments the preview listed that are gone now: someone else removed them meanwhile.
    for step in before.values():
        if step.action != "keep":
            gone: CleanupAction = "deleted" if step.action == "delete" else "skipped"
            report.append(_row(step, gone, ALREADY_GONE, changed="gone before the cleanup ran"))
    return CleanupResponse(report=report)


async def _carry_out(
    admin: RestateAdminClient, now: CleanupStep, before: CleanupStep | None, plan: CleanupPlan
) -> CleanupItem:
    """Run one step the two plans agree on; anything else is skipped, saying what changed."""
    unknown = plan.usage_error if now.deployment.drain_state == "unknown" else None
    if before is None:
        return _row(now, "skipped", NOT_IN_PREVIEW, changed="registered after the preview")
    changed = _difference(before.deployment, now.deployment)
    if before.action == "delete" and now.action == "delete":
        return await _delete_if_still_drained(admin, now, changed)
    if before.action == "delete":
        return _row(now, "skipped", now.reason, unknown, changed)
    if now.action == "delete":  # deletable now, but nobody confirmed deleting it
        why = f"{changed or 'deletable now'}; not deleted: the preview skipped it"
        return _row(now, "skipped", before.reason, unknown, why)
    return _row(now, "skipped", now.reason, unknown, changed)


async def _delete_if_still_drained(
    admin: RestateAdminClient, step: CleanupStep, changed: str | None
) -> CleanupItem:
    """Read the deployment's usage once more right before deleting it for being drained: the
    deletes before it took time, and a run may have pinned to it meanwhile."""
    if step.reason != DRAINED:  # forceDrain deletes whatever the usage is
        return await _delete(admin, step, changed)
    facts = await deployment_facts(admin)
    current = next((d for d in facts.items if d.id == step.deployment.id), None)
    if current is None:
        return _row(step, "deleted", ALREADY_GONE, changed=changed)
    if current.drain_state != "drained":
        late = CleanupStep(
            deployment=current, action="skip", reason=_SKIP_REASONS[current.drain_state]
        )
        why = f"drained when the cleanup started, {current.drain_state} just before its delete"
        return _row(late, "skipped", error=facts.usage_error, changed=why)
    return await _delete(admin, step, changed)


def _difference(before: DeploymentItem, now: DeploymentItem) -> str | None:
    if before.drain_state == now.drain_state:
        return None
    return f"{before.drain_state} at the preview, {now.drain_state} now"


async def _delete(admin: RestateAdminClient, step: CleanupStep, changed: str | None) -> CleanupItem:
    try:
        await admin.delete_deployment(step.deployment.id)
    except AdminRequestFailed as exc:
        if exc.status == 404:
            return _row(step, "deleted", ALREADY_GONE, changed=changed)
        log.warning("cleanup: deleting %s failed: %s", step.deployment.id, exc.message)
        return _row(step, "failed", DELETE_FAILED, exc.message, changed)
    except AdminUnreachable as exc:
        log.warning("cleanup: deleting %s failed: %s", step.deployment.id, exc.message)
        return _row(step, "failed", DELETE_FAILED, exc.message, changed)
    return _row(step, "deleted", changed=changed)


def _row(
    step: CleanupStep,
    action: CleanupAction,
    reason: str | None = None,
    error: str | None = None,
    changed: str | None = None,
) -> CleanupItem:
    item = step.deployment
    return CleanupItem(
        id=item.id,
        service_url=item.service_url,
        action=action,
        reason=reason or step.reason,
        drain_state=item.drain_state,
        pinned_invocations=item.pinned_invocations,
        latest_for=item.latest_for,
        error=error,
        changed=changed,
    )
