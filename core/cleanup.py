"""cleanup-stale-deployments: keep the deployment with the given URL, delete the drained others.

Restate deletes whatever it is told to (``DELETE /deployments/{id}?force=true`` checks nothing), so
the drain check is ours, made just before deleting (the CLI's and web UI's definition):

* **active**: the deployment holds the latest revision of some service;
* **draining**: not active, but non-completed invocations are pinned to it;
* **drained**: neither, so deleting it breaks nothing.

Only drained deployments are deleted unless ``forceDrain`` is set. Each deployment gets one row in
the report; a failed delete marks its row ``failed`` and never fails the call (the seed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.errors import AdminRequestFailed, AdminUnreachable, DeploymentNotFound
from core.models import (
    CleanupAction,
    CleanupItem,
    CleanupRequest,
    CleanupResponse,
    DrainState,
    parse_request,
    to_json_dict,
)
from core.restate.client import RestateAdminClient
from core.restate.queries import DeploymentUsage, deployment_usage
from core.restate.wire import Deployment

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

_SKIP_REASONS: dict[DrainState, str] = {
    "active": LATEST,
    "draining": DRAINING,
    "unknown": USAGE_UNKNOWN,
}


def same_url(registered: str, requested: str) -> bool:
    """The seed's "exact" match, tolerant only of the trailing ``/`` Restate adds to bare hosts.

    Restate stores ``http://h:9080`` as ``http://h:9080/`` (but keeps ``/v1`` as is), so a URL
    copied from elsewhere may differ by that one slash. Nothing else is normalised: a different
    host spelling (``localhost`` vs ``127.0.0.1``) is a different deployment to Restate too.
    """
    return registered == requested or registered.removesuffix("/") == requested.removesuffix("/")


@dataclass(frozen=True)
class _Usage:
    """Who uses which deployment, read once just before deleting; ``None`` when unreadable."""

    by_id: dict[str, DeploymentUsage] | None
    error: str | None = None

    def drain_state(self, deployment_id: str) -> DrainState:
        # A deployment missing from the usage was registered after it was read: unknown.
        usage = (self.by_id or {}).get(deployment_id)
        return "unknown" if usage is None else usage.drain_state

    def item(
        self,
        deployment: Deployment,
        action: CleanupAction,
        reason: str,
        error: str | None = None,
    ) -> CleanupItem:
        usage = (self.by_id or {}).get(deployment.id)
        return CleanupItem(
            id=deployment.id,
            service_url=deployment.endpoint,
            action=action,
            reason=reason,
            drain_state=self.drain_state(deployment.id),
            pinned_invocations=None if usage is None else usage.pinned_active,
            latest_for=[] if usage is None else list(usage.latest_for),
            error=error,
        )


async def _read_usage(admin: RestateAdminClient) -> _Usage:
    """Usage of every deployment. Transport failures propagate: nothing was deleted yet."""
    try:
        return _Usage(await deployment_usage(admin))
    except AdminRequestFailed as exc:
        log.warning("cleanup: deployment usage unreadable: %s", exc.message)
        return _Usage(None, exc.message)


def _keep(deployments: list[Deployment], service_url: str) -> tuple[Deployment, list[Deployment]]:
    """The deployment to keep and the other matches (possible after a PATCH), newest first."""
    matches = [d for d in deployments if d.uri is not None and same_url(d.uri, service_url)]
    if not matches:
        # The URL is not echoed: it may carry credentials, and messages reach the audit log.
        raise DeploymentNotFound(
            "No registered deployment matches serviceUrl; nothing was deleted. Copy "
            "deployments.items[].serviceUrl from doctor exactly.",
            data={"registeredCount": len(deployments)},
        )
    matches.sort(key=lambda d: d.created_at or "", reverse=True)
    return matches[0], matches[1:]


async def _delete(admin: RestateAdminClient, deployment: Deployment, usage: _Usage) -> CleanupItem:
    state = usage.drain_state(deployment.id)
    reason = DRAINED if state == "drained" else FORCED
    try:
        await admin.delete_deployment(deployment.id)
    except AdminRequestFailed as exc:
        if exc.status == 404:
            return usage.item(deployment, "deleted", ALREADY_GONE)
        log.warning("cleanup: deleting %s failed: %s", deployment.id, exc.message)
        return usage.item(deployment, "failed", DELETE_FAILED, exc.message)
    except AdminUnreachable as exc:
        log.warning("cleanup: deleting %s failed: %s", deployment.id, exc.message)
        return usage.item(deployment, "failed", DELETE_FAILED, exc.message)
    return usage.item(deployment, "deleted", reason)


async def cleanup_stale_deployments(
    admin: RestateAdminClient, req: CleanupRequest
) -> CleanupResponse:
    """Keep the deployment registered under ``req.service_url``; delete or skip every other one.

    Raises ``AdminUnreachable`` when the deployments cannot be listed for a transport reason,
    ``AdminRequestFailed`` (status kept) for any other listing failure, and ``DeploymentNotFound``
    when no deployment has the URL. Nothing is deleted in those cases.
    """
    # Validated again: a model built without validation must not reach Restate.
    req = parse_request(CleanupRequest, to_json_dict(req))
    deployments = await admin.list_deployments()
    kept, duplicates = _keep(deployments, req.service_url)
    usage = await _read_usage(admin)
    report = [usage.item(kept, "kept", KEPT)]
    report += [usage.item(d, "skipped", DUPLICATE) for d in duplicates]
    handled = {kept.id} | {d.id for d in duplicates}
    for deployment in (d for d in deployments if d.id not in handled):
        state = usage.drain_state(deployment.id)
        if state == "drained" or req.force_drain:
            report.append(await _delete(admin, deployment, usage))
        else:
            error = usage.error if state == "unknown" else None
            reason = _SKIP_REASONS[state]
            report.append(usage.item(deployment, "skipped", reason, error))
    return CleanupResponse(report=report)
