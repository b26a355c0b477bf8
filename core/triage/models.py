"""Triage's values: the selection readout, the action offers, the stored bulk action, the report.

JSON uses camelCase like every operator route (``core.models.ApiModel``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.models import ApiModel
from core.triage.filter import MAX_LIMIT, TriageFilter
from core.triage.names import ActionName

ResumeDeployment = Literal["latest", "keep"]
#: ``interrupted``: it was running and its process ended midway (no checkpoint within the
#: liveness window, ``core.triage.store``); it is never run or cancelled again.
ActionState = Literal["pending", "approved", "running", "interrupted", "finished", "cancelled"]
ItemOutcomeKind = Literal["done", "skipped", "failed"]
DEFAULT_SHOWN = 20
#: What an operator does about an interrupted action: its report's ``message``, and the refusal
#: of running or cancelling it.
INTERRUPTED_MESSAGE = (
    "This action's run stopped midway: its process ended before it finished, so some items "
    "may have been acted on and others not. It will not be run again. Query the invocations "
    "again and act on what is left."
)


class TriageItem(ApiModel):
    """One selected invocation as the readout shows it and the pending action remembers it."""

    id: str
    service: str
    key: str | None = None
    handler: str | None = None
    #: ``service``, ``virtual_object`` or ``workflow`` (Restate's ``target_service_ty``).
    service_type: str | None = None
    status: str
    completion_result: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    retry_count: int | None = None
    deployment: str | None = None
    error_code: str | None = None
    error: str | None = None
    #: True when this is the main (``run``-like) handler of a workflow: recover applies to it.
    workflow_run: bool = False


class Selection(ApiModel):
    """What a filter matched: at most ``filter.limit`` items, and counts over the whole match."""

    filter: TriageFilter
    #: Every invocation the filter matches, beyond the cap included.
    total: int
    by_status: dict[str, int]
    by_service: dict[str, int]
    items: list[TriageItem]
    selected_at: str

    @property
    def capped(self) -> bool:
        return self.total > len(self.items)


class ActionOffer(ApiModel):
    """One action and the part of the selection it applies to, or why it is not offered."""

    action: ActionName
    offered: bool
    #: How many selected invocations it would act on.
    applies_to: int = 0
    #: Why it is not offered (server version, nothing it applies to).
    reason: str | None = None
    destructive: bool = False
    #: Whether a second operator must approve it before it runs.
    needs_approval: bool = False
    description: str = ""


class Readout(ApiModel):
    """The answer to a triage query: the selection (first ``shown`` items) and the offers."""

    filter: str
    total: int
    selected: int
    capped: bool
    by_status: dict[str, int]
    by_service: dict[str, int]
    items: list[TriageItem]
    actions: list[ActionOffer]
    server_version: str | None = None


class BulkAction(ApiModel):
    """A previewed bulk action, stored in Redis: exactly the invocations the preview showed."""

    id: str
    action: ActionName
    #: For resume: run on the ``latest`` deployment or ``keep`` the pinned one.
    deployment: ResumeDeployment | None = None
    filter: str
    items: list[TriageItem]
    #: Matches beyond the selection that this action will not touch.
    total_matched: int
    requested_by: str
    requested_at: str
    needs_approval: bool
    #: The preview's request id: ties preview, approval and execution together in the audit.
    request_id: str
    #: Where it was offered (Slack channel and message ts), when known.
    context: dict[str, str] = Field(default_factory=dict)


class ItemOutcome(ApiModel):
    id: str
    outcome: ItemOutcomeKind
    #: Why it was skipped (changed state, stopped) or how it failed.
    detail: str | None = None


class BulkReport(ApiModel):
    """Per-item outcome of one bulk action, complete or as far as it got."""

    action_id: str
    action: ActionName
    state: ActionState
    requested_by: str
    approved_by: str | None = None
    executed_by: str | None = None
    stopped_by: str | None = None
    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    items: list[ItemOutcome] = Field(default_factory=list)
    #: What to do next, when the state needs it (``interrupted``).
    message: str | None = None

    @property
    def finished_items(self) -> int:
        return self.done + self.skipped + self.failed


# --- requests and the preview --------------------------------------------------------------


class QueryRequest(TriageFilter):
    """A filter, plus how many of the selected invocations the readout lists."""

    shown: int = Field(default=DEFAULT_SHOWN, ge=0, le=MAX_LIMIT)


class ActionRequest(ApiModel):
    action: ActionName
    filter: TriageFilter = TriageFilter()
    #: resume only: ``latest`` re-pins onto the newest deployment; ``keep`` (default) does not.
    deployment: ResumeDeployment | None = None
    shown: int = Field(default=DEFAULT_SHOWN, ge=0, le=MAX_LIMIT)


class Preview(ApiModel):
    """A stored bulk action as the preview shows it: its id, what it acts on, who must approve."""

    action_id: str
    action: ActionName
    deployment: ResumeDeployment | None = None
    filter: str
    #: How many invocations it will act on: exactly these ids, never re-selected.
    count: int
    total_matched: int
    capped: bool
    needs_approval: bool
    requested_by: str
    expires_in_s: int
    items: list[TriageItem]
    text: str
