"""The bulk actions: the server versions that have them, what they apply to, one call each.

One rule per action decides both what the preview offers and, at execution, whether an item is
still eligible (:func:`eligible`): the preview and the re-check cannot disagree.

| action | Restate | applies to |
|---|---|---|
| kill, cancel | 1.4+ | every status but ``completed`` (paused, backing-off runs ignore cancel) |
| purge | 1.4+ | ``completed`` |
| pause | 1.6+ | ``running``, ``backing-off`` |
| resume | 1.5+ | ``paused`` (on the ``latest`` deployment or the pinned one: ``keep``) |
| recover | 1.4+ | a workflow main-handler run that failed: recover-stuck-workflow per key |
| restart-as-new | 1.5+ | ``completed``, not a workflow (Restate refuses workflows: 422) |

Answers that mean "someone else got there first" are skips, not failures: 409 (already completed,
not completed, not running) and 404 (gone). recover's own refusals (an active or successful run)
are skips with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import AdminRequestFailed, InvalidInput, OpsError, WorkflowRetryBlocked
from core.models import RecoverRequest, parse_request
from core.plans.recover import recover_stuck_workflow
from core.restate.client import RestateAdminClient
from core.triage.models import (
    ActionOffer,
    BulkAction,
    ItemOutcome,
    ResumeDeployment,
    Selection,
    TriageItem,
)
from core.triage.names import ACTION_NAMES, ActionName

Eligible = Callable[[TriageItem, str, str | None], bool]


@dataclass(frozen=True)
class ActionSpec:
    name: ActionName
    since: tuple[int, int]
    destructive: bool
    description: str
    #: (item as previewed, current status, current completion result) -> may it act?
    eligible: Eligible


def _not_completed(item: TriageItem, status: str, result: str | None) -> bool:
    return status != "completed"


def _completed(item: TriageItem, status: str, result: str | None) -> bool:
    return status == "completed"


def _pausable(item: TriageItem, status: str, result: str | None) -> bool:
    return status in ("running", "backing-off")


def _paused(item: TriageItem, status: str, result: str | None) -> bool:
    return status == "paused"


def _failed_workflow_run(item: TriageItem, status: str, result: str | None) -> bool:
    return item.workflow_run and status == "completed" and result == "failure"


def _restartable(item: TriageItem, status: str, result: str | None) -> bool:
    return status == "completed" and item.service_type != "workflow"


SPECS: dict[ActionName, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("kill", (1, 4), True, "Kill: end them now as failed.", _not_completed),
        ActionSpec(
            "cancel",
            (1, 4),
            True,
            "Cancel: ask them to stop (paused and backing-off runs ignore it).",
            _not_completed,
        ),
        ActionSpec(
            "purge", (1, 4), True, "Purge: delete completed invocations and their data.", _completed
        ),
        ActionSpec("pause", (1, 6), False, "Pause: stop retrying until resumed.", _pausable),
        ActionSpec("resume", (1, 5), False, "Resume paused invocations.", _paused),
        ActionSpec(
            "recover",
            (1, 4),
            True,
            "Recover workflow keys: kill, purge and clear each terminal-failed key.",
            _failed_workflow_run,
        ),
        ActionSpec(
            "restart-as-new",
            (1, 5),
            False,
            "Restart as new: run completed invocations again with the same input.",
            _restartable,
        ),
    )
}


def eligible(action: ActionName, item: TriageItem, status: str, result: str | None) -> bool:
    return SPECS[action].eligible(item, status, result)


def applicable(action: ActionName, items: list[TriageItem]) -> list[TriageItem]:
    """The previewed items ``action`` would act on, judged by their status at preview."""
    return [i for i in items if eligible(action, i, i.status, i.completion_result)]


def offers(
    items: list[TriageItem], release: tuple[int, int], needs_approval: frozenset[str]
) -> list[ActionOffer]:
    """Every action, offered or not with the reason, for a selection on a server ``release``."""
    result = []
    for name in ACTION_NAMES:
        spec = SPECS[name]
        count = len(applicable(name, items))
        reason = None
        if release < spec.since:
            shown = "an unknown version" if release == (0, 0) else f"{release[0]}.{release[1]}"
            reason = f"needs Restate {spec.since[0]}.{spec.since[1]}+; the server runs {shown}"
        elif count == 0:
            reason = "no selected invocation is in a state it applies to"
        result.append(
            ActionOffer(
                action=name,
                offered=reason is None,
                applies_to=count,
                reason=reason,
                destructive=spec.destructive,
                needs_approval=name in needs_approval,
                description=spec.description,
            )
        )
    return result


async def apply(
    admin: RestateAdminClient,
    action: ActionName,
    item: TriageItem,
    deployment: ResumeDeployment | None,
) -> ItemOutcome:
    """Act on one invocation; Restate's "already done / gone" answers become skips."""
    try:
        detail = await _call(admin, action, item, deployment)
    except WorkflowRetryBlocked as exc:
        return ItemOutcome(id=item.id, outcome="skipped", detail=f"{exc.reason}: {exc.message}")
    except AdminRequestFailed as exc:
        if exc.status in (404, 409):
            return ItemOutcome(id=item.id, outcome="skipped", detail=exc.restate_message)
        return ItemOutcome(id=item.id, outcome="failed", detail=exc.message)
    except OpsError as exc:
        return ItemOutcome(id=item.id, outcome="failed", detail=f"{exc.code}: {exc.message}")
    return ItemOutcome(id=item.id, outcome="done", detail=detail)


async def _call(
    admin: RestateAdminClient,
    action: ActionName,
    item: TriageItem,
    deployment: ResumeDeployment | None,
) -> str | None:
    if action == "kill":
        await admin.kill_invocation(item.id)
    elif action == "cancel":
        await admin.cancel_invocation(item.id)
    elif action == "purge":
        await admin.purge_invocation(item.id)
    elif action == "pause":
        await admin.pause_invocation(item.id)
    elif action == "resume":
        await admin.resume_invocation(item.id, deployment=deployment or "keep")
    elif action == "restart-as-new":
        await admin.restart_invocation_as_new(item.id)
    elif action == "recover":
        return await _recover(admin, item)
    return None


async def _recover(admin: RestateAdminClient, item: TriageItem) -> str:
    """The recover-stuck-workflow operation itself, with all its rules, for this item's key."""
    if item.key is None:
        raise InvalidInput("key", f"{item.id} has no workflow key")
    request = parse_request(RecoverRequest, {"serviceName": item.service, "serviceKey": item.key})
    response = await recover_stuck_workflow(admin, request)
    return "; ".join(["key reset", *response.warnings])


def preview_text(action: BulkAction, selection: Selection) -> str:
    """One sentence for confirm dialogs and prompts: what runs, on how many, and what not."""
    verb = {
        "kill": "Kill",
        "cancel": "Cancel",
        "purge": "Purge",
        "pause": "Pause",
        "resume": "Resume",
        "recover": "Recover the workflow keys of",
        "restart-as-new": "Restart as new",
    }[action.action]
    text = f"{verb} {len(action.items)} invocation(s) matching {action.filter}"
    if action.action == "resume":
        text += f" on the {action.deployment} deployment"
    left = selection.total - len(action.items)
    if selection.capped:
        text += f"; {selection.total} match, only the first {len(selection.items)} were selected"
    elif left:
        text += f"; {left} other match(es) are in a state it does not apply to"
    if action.needs_approval:
        text += ". A second operator must approve it"
    return text + "."
