"""What to do next, from a doctor readout: the operator guide's "Choose the recovery action" table.

================================================  ==============================================
Doctor signal                                     Advice
================================================  ==============================================
admin API or the lists over it unreachable        ``fix-connectivity`` only (writes use it too)
ingress unreachable                               ``fix-connectivity`` (ingress), plus the rest
live service URL (configuration) not registered   ``force-redeploy`` of that URL
several deployments, the live one among them      ``cleanup-stale-deployments`` keeping it, or
                                                  ``inspect`` when nothing is drained yet
a workflow key's ``run`` is terminal-failed       ``recover-stuck-workflow`` for that key
a run is backing-off or paused (still active)     ``inspect``: recover refuses active runs
a workflow already succeeded                      nothing
================================================  ==============================================

Pure and deterministic: the same readout always gives the same advice in the same order. Write
advice words a plan from ``core.plans`` (the same plan the write runs), never a second copy of
its rules.
"""

from __future__ import annotations

from core.models import (
    IDENTIFIER,
    Advice,
    CleanupPlan,
    CleanupStep,
    DoctorReport,
    FailureItem,
    RecoverPlan,
    RedeployPlan,
    StuckItem,
)
from core.plans.cleanup import DUPLICATE, plan_cleanup
from core.plans.redeploy import RedeployCheck
from core.plans.rules import newest, same_endpoint
from core.timestamps import iso_utc

#: Recovery offers at most this many keys (and inspections) per readout: one incident at a time.
MAX_PER_KIND = 5
#: The guide's recovery acts on a workflow's ``run`` invocation; the readout does not carry each
#: workflow's main-handler name, so failures of other handlers (shared ones) are not offered.
WORKFLOW_MAIN_HANDLER = "run"


def advise(report: DoctorReport, *, live_service_url: str | None) -> list[Advice]:
    """The recommended next steps for ``report``; ``live_service_url`` comes from configuration.

    The live URL is never taken from a doctor row: an old row is exactly what may be stale.
    """
    blocked = _connectivity(report)
    if blocked is not None:
        return [blocked]
    advice: list[Advice] = []
    if report.ingress.status == "unreachable":
        advice.append(_fix_ingress(report))
    advice += _deployment_advice(report, live_service_url)
    advice += _recover_advice(report)
    advice += _inspect_stuck(report)
    return advice


# --- connectivity -----------------------------------------------------------------------------


def _connectivity(report: DoctorReport) -> Advice | None:
    """One fix-connectivity advice when the admin path is down; no write can work then."""
    down = [
        (name, error)
        for name, status, error in (
            ("admin API", report.admin.status, report.admin.error),
            ("deployment list", report.deployments.status, report.deployments.error),
            ("service list", report.services.status, report.services.error),
        )
        if status == "unreachable"
    ]
    if not down:
        return None
    reasons = "; ".join(f"{name}: {error or 'unreachable'}" for name, error in down)
    return Advice(
        kind="fix-connectivity",
        title="Fix connectivity to the Restate admin API",
        preview=(
            f"Doctor could not reach the admin API ({reasons}). Every write route uses the "
            "same path: check the admin URL configuration, DNS, network policy and admin API "
            "health, then run doctor again."
        ),
        # Tells renderers which path is down: only the admin path blocks the writes.
        args={"component": "admin"},
    )


def _fix_ingress(report: DoctorReport) -> Advice:
    return Advice(
        kind="fix-connectivity",
        title="Fix connectivity to the Restate ingress",
        preview=(
            f"The ingress did not answer ({report.ingress.error or 'unreachable'}), so "
            "applications cannot submit workflows. The write routes use the admin API and are "
            "not affected. Check the ingress URL and network path, then run doctor again."
        ),
        args={"component": "ingress"},
    )


# --- deployments ------------------------------------------------------------------------------


def _deployment_advice(report: DoctorReport, live_url: str | None) -> list[Advice]:
    readout = report.deployments
    # A degraded readout with no items means the list itself failed: nothing is known.
    listed = readout.status == "ok" or (readout.status == "degraded" and bool(readout.items))
    if live_url is None or not listed:
        return []
    live = [d for d in readout.items if same_endpoint(d.service_url, live_url)]
    if not live:
        plan = RedeployPlan(service_url=live_url)
        return [redeploy_advice(plan, registered=len(readout.items))]
    if len(readout.items) < 2:
        return []
    # The registered string exactly, as cleanup matches on it.
    return [cleanup_advice(plan_cleanup(readout.items, newest(live).service_url))]


def redeploy_advice(
    plan: RedeployPlan, *, registered: int | None = None, check: RedeployCheck | None = None
) -> Advice:
    """Preview of ``force-redeploy``; ``registered`` counts deployments when it is known, and
    ``check`` is what a dry run of the registration found."""
    missing = (
        f" It is not among the {registered} registered deployment(s)."
        if registered is not None
        else ""
    )
    if check is not None:
        missing = f" {_checked_registration(plan, check)}"
    return Advice(
        kind="force-redeploy",
        route="force-redeploy",
        title="Register the live workflow service",
        preview=(
            f"Register {plan.service_url} with Restate (force={str(plan.force).lower()}) and get "
            f"its deployment id.{missing} Old deployments are not deleted; run doctor again "
            "afterwards."
        ),
        args={"serviceUrl": plan.service_url, "force": plan.force},
        plan=plan,
    )


def _checked_registration(plan: RedeployPlan, check: RedeployCheck) -> str:
    found = ", ".join(check.services) or "no services"
    if not check.overwrites:
        effect = f"registers a new deployment ({check.deployment_id})"
    elif plan.force:
        effect = (
            f"overwrites {check.deployment_id} in place: in-flight invocations pinned to it "
            "replay against the new code"
        )
    else:
        effect = f"keeps {check.deployment_id} as registered: changed services are not picked up"
    return f"Checked with a dry run: the service answered with {found}; registering {effect}."


def cleanup_advice(plan: CleanupPlan) -> Advice:
    """Preview exactly what the cleanup ``plan`` deletes and skips."""
    keep, delete, skip = plan.keep, plan.doing("delete"), plan.doing("skip")
    skipped = f" Skip {_listing(skip)}." if skip else ""
    if not delete:
        return Advice(
            kind="inspect",
            title="Stale deployments are still in use",
            preview=(
                f"No other deployment is drained yet. Keep {keep.id} ({keep.service_url})."
                f"{skipped} Wait for pinned invocations to finish, then run doctor again."
            ),
            # A cleanup confirmed anyway runs this plan: it deletes nothing drained since.
            plan=plan,
        )
    noun = "deployment" if len(delete) == 1 else "deployments"
    forced = (
        " forceDrain: in-flight invocations pinned to them will break." if plan.force_drain else ""
    )
    return Advice(
        kind="cleanup-stale-deployments",
        route="cleanup-stale-deployments",
        title="Delete stale deployments",
        preview=(
            f"Delete {len(delete)} stale {noun}: {_listing(delete)}. "
            f"Keep {keep.id} ({keep.service_url}).{skipped}{forced}"
        ),
        args={"serviceUrl": plan.service_url, "forceDrain": plan.force_drain},
        destructive=True,
        plan=plan,
    )


def _listing(steps: list[CleanupStep]) -> str:
    return ", ".join(f"{step.deployment.id} ({_why(step)})" for step in steps)


def _why(step: CleanupStep) -> str:
    item = step.deployment
    if step.reason == DUPLICATE:
        return "same URL as the kept one"
    if item.drain_state == "active":
        return f"latest for {', '.join(item.latest_for)}" if item.latest_for else "active"
    if item.drain_state == "draining":
        count = item.pinned_invocations
        return f"draining, {count} pinned invocation{'' if count == 1 else 's'}"
    if item.drain_state == "unknown":
        return "drain state unknown"
    return "drained"


# --- workflows --------------------------------------------------------------------------------


def _recover_advice(report: DoctorReport) -> list[Advice]:
    active = {(s.service_name, s.service_key) for s in report.invocations.stuck}
    seen: set[tuple[str, str]] = set()
    advice: list[Advice] = []
    for failure in report.invocations.recent_failures:  # newest first
        key = failure.service_key
        if key is None or (failure.service_name, key) in seen | active:
            continue
        if not _recoverable(failure, key, report):
            continue
        seen.add((failure.service_name, key))
        advice.append(_recover(failure, key))
        if len(advice) == MAX_PER_KIND:
            break
    return advice


def _recoverable(failure: FailureItem, key: str, report: DoctorReport) -> bool:
    if failure.handler != WORKFLOW_MAIN_HANDLER:
        return False
    # The route accepts only these characters; offering a button that must fail helps nobody.
    if not (IDENTIFIER.fullmatch(failure.service_name) and IDENTIFIER.fullmatch(key)):
        return False
    service = next((s for s in report.services.items if s.name == failure.service_name), None)
    # When the service list is known, only workflows have a keyed run to recover.
    return service is None or (service.type or "").lower() == "workflow"


def _recover(failure: FailureItem, key: str) -> Advice:
    when = f" at {iso_utc(failure.failed_at)}" if failure.failed_at else ""
    error = f": {failure.error_message}" if failure.error_message else ""
    return recover_advice(
        failure.service_name,
        key,
        observed=f"The run of {failure.service_name}/{key} failed{when}{error}.",
    )


def recover_advice(service_name: str, service_key: str, *, observed: str = "") -> Advice:
    """Advice to recover one key that doctor saw fail; ``observed`` says what it saw.

    The readout does not hold the key's runs, so this advice has no plan: the write plans (and
    refuses an unsafe key) when it runs.
    """
    lead = f"{observed} " if observed else ""
    return Advice(
        kind="recover-stuck-workflow",
        route="recover-stuck-workflow",
        title=f"Recover {service_name}/{service_key}",
        preview=(
            f"{lead}Kill and purge the terminal-failed invocations of {service_name}/{service_key} "
            "and clear the key's state, so the next submission starts from a blank state. "
            "Refused if the key has an active or succeeded run."
        ),
        args={"serviceName": service_name, "serviceKey": service_key},
        destructive=True,
    )


def recover_preview(plan: RecoverPlan) -> Advice:
    """Preview of a checked recover ``plan``: the runs it purges, by id."""
    target = f"{plan.service_name}/{plan.service_key}"
    noun = "run" if len(plan.purge) == 1 else "runs"
    action = (
        f"Kill and purge the terminal-failed {noun} of {target} ({', '.join(plan.purge)}), "
        "then clear the key's state"
        if plan.purge
        else f"{target} has no run to purge: only clear the key's state"
    )
    return Advice(
        kind="recover-stuck-workflow",
        route="recover-stuck-workflow",
        title=f"Recover {target}",
        preview=(
            f"Checked: {plan.service_name} is a workflow and {target} has no active or succeeded "
            f"run. {action}, so the next submission starts from a blank state. Refused, with "
            "nothing changed, if the runs change before you confirm."
        ),
        args={"serviceName": plan.service_name, "serviceKey": plan.service_key},
        destructive=True,
        plan=plan,
    )


def _inspect_stuck(report: DoctorReport) -> list[Advice]:
    return [_inspect(item) for item in report.invocations.stuck[:MAX_PER_KIND]]


def _inspect(item: StuckItem) -> Advice:
    target = "/".join(p for p in (item.service_name, item.service_key, item.handler) if p)
    retries = f" after {item.retry_count} retries" if item.retry_count else ""
    detail = ": ".join(part for part in (item.error_code, item.error_message) if part)
    error = f" ({detail})" if detail else ""
    return Advice(
        kind="inspect",
        title=f"Inspect {item.status} {target}",
        preview=(
            f"{target} is {item.status}{retries}{error}. It is still active, so "
            "recover-stuck-workflow would refuse it: fix the cause and resume it, or kill it "
            "with the Restate admin tooling, then run doctor again."
        ),
        args={"invocationId": item.id},
    )
