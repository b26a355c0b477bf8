"""recover-stuck-workflow: make one terminal-failed workflow key runnable again from blank state.

The order matters because Restate guards nothing here (notes §5.5, §6):

1. validate the identifiers before any call;
2. ``GET /services/{name}``: it must be a workflow; find its main handler (not always ``run``);
3. read that key's main-handler runs. Any active run (any status but completed, killed or
   cancelled) or any successful one refuses the recovery and changes **nothing**;
4. kill (a 409 "already completed" is the normal answer) and purge each terminal-failed run;
   purging a workflow run also deletes its state and promises;
5. re-read the runs, then clear the keyed state: never while a run is active, because Restate
   applies a workflow state change at once, even mid-run;
6. verify nothing is left, and warn about promises that survived (no API can delete them).

Errors: transport failures are ``AdminUnreachable``; a failed invocation query is
``WorkflowRetryBlocked("query-failed")``; a failed kill or purge is ``"purge-failed"``.
"""

from __future__ import annotations

import asyncio
import time

from core.errors import AdminRequestFailed, AdminUnreachable, InvalidInput, WorkflowRetryBlocked
from core.models import RecoverRequest, RecoverResponse, parse_request, to_json_dict
from core.restate.client import RestateAdminClient
from core.restate.queries import KeyLeftovers, WorkflowRun, key_leftovers, workflow_runs
from core.restate.sql import UnsafeLiteral, literal

#: The seed's list of statuses that are not active. Restate 1.7 reports kills and cancellations as
#: ``completed``; the other two are accepted should a server ever report them. Every other status,
#: including ones a future server invents, is active.
TERMINAL_STATUSES = frozenset({"completed", "killed", "cancelled"})
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


async def _main_handler(admin: RestateAdminClient, service: str) -> str:
    """The workflow's main handler name; a missing or non-workflow service is the caller's error."""
    try:
        described = await admin.get_service(service)
    except AdminRequestFailed as exc:
        if exc.status == 404:
            rule = f"must name a registered workflow service; Restate has no service {service!r}"
            raise InvalidInput("serviceName", rule) from exc
        raise
    handler = described.workflow_handler if described.ty == "Workflow" else None
    if handler is None:
        rule = f"must name a workflow service; {service!r} is a {described.ty}"
        raise InvalidInput("serviceName", rule)
    return handler


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
    active = [run for run in runs if run.status not in TERMINAL_STATUSES]
    if active:
        statuses = ", ".join(sorted({run.status for run in active}))
        raise WorkflowRetryBlocked(
            "active-invocation",
            f"Workflow retry is blocked by an active invocation: {service}/{key} has a run that "
            f"is {statuses}. {done}",
            [run.id for run in active],
        )
    succeeded = [run.id for run in runs if run.completion_result == "success"]
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
    admin: RestateAdminClient, req: RecoverRequest, *, verify_timeout: float = VERIFY_TIMEOUT_S
) -> RecoverResponse:
    """Kill and purge the key's terminal-failed runs, then clear its state, or refuse unchanged."""
    service, key = _checked(req)
    handler = await _main_handler(admin, service)
    runs = await _runs(admin, service, key, handler)
    _refuse_unsafe(runs, service, key)
    killed: list[str] = []
    purged: list[str] = []
    warnings: list[str] = []
    for run in runs:
        if await _kill(admin, run.id):
            warnings.append(f"{run.id} was still running when it was killed.")
            killed.append(run.id)
        await _purge(admin, run.id)
        purged.append(run.id)
    if not runs:
        warnings.append(f"No run of {service}/{key} was found: nothing was killed or purged.")
    # A run may have been submitted since the first read; state must never be cleared under it.
    after = "Its failed runs were purged; the state of the new run was left alone."
    _refuse_unsafe(await _runs(admin, service, key, handler), service, key, after)
    await admin.clear_state(service, key)
    warnings += await _verify(admin, service, key, handler, verify_timeout)
    return RecoverResponse(killed=killed, purged=purged, state_cleared=True, warnings=warnings)
