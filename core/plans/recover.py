"""recover-stuck-workflow: make one terminal-failed workflow key runnable again from blank state.

The order matters because Restate guards nothing here:

1. validate the identifiers before any call;
2. ``GET /services/{name}``: it must be a workflow; find its main handler (not always ``run``);
3. read that key's main-handler runs. Any active run (``core.plans.rules.is_active``) or any
   successful one refuses the recovery and changes **nothing**;
4. kill (a 409 "already completed" is the normal answer) and purge each terminal-failed run;
   purging a workflow run also deletes its state and promises;
5. re-read the runs, then clear the keyed state: never while a run is active, because Restate
   applies a workflow state change at once, even mid-run;
6. verify nothing is left, and warn about promises that survived (no API can delete them).

Steps 1 to 3 are :func:`read_recover_plan` (what a preview runs, changing nothing) and the pure
:func:`plan_recover`. The write plans again; when the runs to purge differ from the confirmed
plan it refuses with ``PreviewOutdated`` before changing anything.

Errors: transport failures are ``AdminUnreachable``; a failed invocation query is
``WorkflowRetryBlocked("query-failed")``; a failed kill or purge is ``"purge-failed"``.
"""

from __future__ import annotations

import asyncio
import time

from core.errors import (
    AdminRequestFailed,
    AdminUnreachable,
    InvalidInput,
    PreviewOutdated,
    WorkflowRetryBlocked,
)
from core.models import RecoverPlan, RecoverRequest, RecoverResponse, parse_request, to_json_dict
from core.restate.client import RestateAdminClient
from core.restate.queries import KeyLeftovers, WorkflowRun, key_leftovers, workflow_runs
from core.restate.sql import UnsafeLiteral, literal
from core.restate.wire import Service

VERIFY_TIMEOUT_S = 2.0
_VERIFY_POLL_S = 0.05


def _checked(req: RecoverRequest) -> tuple[str, str]:
    """The identifiers, validated again: a model built without validation must not slip through."""
    req = parse_request(RecoverRequest, to_json_dict(req))
    for field, value in (("serviceName", req.service_name), ("serviceKey", req.service_key)):
        try:
            literal(value)
        except UnsafeLiteral as exc:
            raise InvalidInput(field, str(exc)) from exc
    return req.service_name, req.service_key


async def _service(admin: RestateAdminClient, service: str) -> Service:
    """The service as Restate describes it; an unknown one is the caller's error."""
    try:
        return await admin.get_service(service)
    except AdminRequestFailed as exc:
        if exc.status == 404:
            rule = f"must name a registered workflow service; Restate has no service {service!r}"
            raise InvalidInput("serviceName", rule) from exc
        raise


def _main_handler(described: Service) -> str:
    """The workflow's main handler name; a service that is not a workflow is the caller's error."""
    handler = described.workflow_handler if described.ty == "Workflow" else None
    if handler is None:
        rule = f"must name a workflow service; {described.name!r} is a {described.ty}"
        raise InvalidInput("serviceName", rule)
    return handler


def plan_recover(described: Service, key: str, runs: list[WorkflowRun]) -> RecoverPlan:
    """Purge every run of the key and clear its state, or refuse (``WorkflowRetryBlocked``)."""
    handler = _main_handler(described)
    _refuse_unsafe(runs, described.name, key)
    return RecoverPlan(
        service_name=described.name,
        service_key=key,
        handler=handler,
        purge=[run.id for run in runs],
    )


async def read_recover_plan(admin: RestateAdminClient, req: RecoverRequest) -> RecoverPlan:
    """Check the service and read the key's runs now, and plan. Changes nothing; raises what the
    write would raise before its first change (bad service, refusal, failed query)."""
    service, key = _checked(req)
    described = await _service(admin, service)
    return plan_recover(described, key, await _runs(admin, service, key, _main_handler(described)))


async def _runs(
    admin: RestateAdminClient, service: str, key: str, handler: str
) -> list[WorkflowRun]:
    try:
        return await workflow_runs(admin, service, key, handler)
    except AdminRequestFailed as exc:
        raise WorkflowRetryBlocked(
            "query-failed",
            f"Could not read the invocations of {service}/{key}; workflow state was not cleared. "
            f"Restate said: {exc.restate_message}",
            [],
        ) from exc


def _refuse_unsafe(
    runs: list[WorkflowRun], service: str, key: str, done: str = "Nothing was changed."
) -> None:
    """Refuse on an active run, then on a successful one; ``done`` says what already happened."""
    active = [run for run in runs if run.active]
    if active:
        statuses = ", ".join(sorted({run.status for run in active}))
        raise WorkflowRetryBlocked(
            "active-invocation",
            f"Workflow retry is blocked by an active invocation: {service}/{key} has a run that "
            f"is {statuses}. {done}",
            [run.id for run in active],
        )
    succeeded = [run.id for run in runs if run.succeeded]
    if succeeded:
        raise WorkflowRetryBlocked(
            "already-succeeded",
            f"Workflow retry is blocked: {service}/{key} already completed successfully. {done}",
            succeeded,
        )


async def _kill(admin: RestateAdminClient, invocation_id: str) -> bool:
    """Kill one terminal-failed run; True only if it was in fact still running."""
    try:
        await admin.kill_invocation(invocation_id)
    except AdminRequestFailed as exc:
        if exc.status in (404, 409):  # 409: already completed (expected); 404: already purged
            return False
        raise WorkflowRetryBlocked(
            "purge-failed",
            f"Killing {invocation_id} before its purge failed: {exc.restate_message}",
            [invocation_id],
        ) from exc
    return True


async def _purge(admin: RestateAdminClient, invocation_id: str) -> None:
    try:
        await admin.purge_invocation(invocation_id)
    except AdminRequestFailed as exc:
        if exc.status == 404:  # already purged: the outcome we want
            return
        if exc.status == 409:  # "not yet completed": it became active again, so stop here
            raise WorkflowRetryBlocked(
                "active-invocation",
                f"Workflow retry is blocked by an active invocation: {invocation_id} became "
                "active before it was purged. State was not cleared.",
                [invocation_id],
            ) from exc
        raise WorkflowRetryBlocked(
            "purge-failed",
            f"Purging {invocation_id} failed: {exc.restate_message}. State was not cleared.",
            [invocation_id],
        ) from exc


async def _verify(
    admin: RestateAdminClient, service: str, key: str, handler: str, within_s: float
) -> list[str]:
    """Warnings about what the key still holds; the recovery itself is already done."""
    deadline = time.monotonic() + within_s
    try:
        left = await key_leftovers(admin, service, key, handler)
        # State changes are applied through Restate's log: give them a moment to land.
        while (left.runs or left.state_rows) and time.monotonic() < deadline:
            await asyncio.sleep(_VERIFY_POLL_S)
            left = await key_leftovers(admin, service, key, handler)
    except (AdminRequestFailed, AdminUnreachable) as exc:
        return [f"Could not verify {service}/{key} after recovery: {exc.message}"]
    return _leftover_warnings(left, service, key)


def _leftover_warnings(left: KeyLeftovers, service: str, key: str) -> list[str]:
    warnings = []
    if left.runs:
        warnings.append(f"Runs of {service}/{key} still listed after the purge: {left.runs}.")
    if left.state_rows:
        warnings.append(f"State entries of {service}/{key} still present: {left.state_rows}.")
    if left.promises:
        warnings.append(
            f"{left.promises} promise(s) of {service}/{key} remain: the next run will see them "
            "already resolved. Restate has no API to delete them (restatedev/restate#4909)."
        )
    return warnings


async def recover_stuck_workflow(
    admin: RestateAdminClient,
    req: RecoverRequest,
    *,
    expected: RecoverPlan | None = None,
    verify_timeout: float = VERIFY_TIMEOUT_S,
) -> RecoverResponse:
    """Kill and purge the key's terminal-failed runs, then clear its state, or refuse unchanged.

    ``expected`` is the plan the operator confirmed (a preview); when the runs to purge are not
    the ones it named, nothing is changed and ``PreviewOutdated`` says what changed.
    """
    plan = await read_recover_plan(admin, req)
    if expected is not None:
        _confirm(expected, plan)
    service, key, handler = plan.service_name, plan.service_key, plan.handler
    killed: list[str] = []
    warnings: list[str] = []
    for run_id in plan.purge:
        if await _kill(admin, run_id):
            warnings.append(f"{run_id} was still running when it was killed.")
            killed.append(run_id)
        await _purge(admin, run_id)
    if not plan.purge:
        warnings.append(f"No run of {service}/{key} was found: nothing was killed or purged.")
    # A run may have been submitted since the first read; state must never be cleared under it.
    after = "Its failed runs were purged; the state of the new run was left alone."
    _refuse_unsafe(await _runs(admin, service, key, handler), service, key, after)
    await admin.clear_state(service, key)
    warnings += await _verify(admin, service, key, handler, verify_timeout)
    return RecoverResponse(
        killed=killed, purged=list(plan.purge), state_cleared=True, warnings=warnings
    )


def _confirm(expected: RecoverPlan, plan: RecoverPlan) -> None:
    if (expected.service_name, expected.service_key) != (plan.service_name, plan.service_key):
        raise ValueError("the confirmed recover plan was made for another workflow key")
    if expected.purge == plan.purge:
        return
    was = ", ".join(expected.purge) or "no run"
    now = ", ".join(plan.purge) or "no run"
    change = (
        f"the runs of {plan.service_name}/{plan.service_key} were {was} at the preview, {now} now"
    )
    raise PreviewOutdated(f"Recovery refused: {change}. Nothing was changed.", [change])
