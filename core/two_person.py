"""The two-person rule for the operator writes: which requests wait for a second operator.

A cleanup with ``forceDrain: true`` deletes deployments that still serve invocations, so (unless
``TWO_PERSON_FORCE_DRAIN`` is off) its requester cannot run it alone:

    requester ──execute──> held: APPROVAL_REQUIRED, an approval id and its expiry (audited blocked)
    the requester ──approve──> SELF_APPROVAL_REFUSED, the request stays (audited denied)
    a second operator ──approve──> claimed once, then run (audited with requestedBy/approvedBy)
    anyone, after the expiry ──approve──> PENDING_ACTION_UNAVAILABLE "expired", nothing changed

:class:`TwoPersonRule` is the rule, in this one place; ``core.operations.Operations.execute``
consults it through :class:`ApprovalGate` and holds the write (in ``core.pending``, the store of
offered writes) instead of running it. ``core.approvals`` is the approving side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.environments import DEFAULT_ENVIRONMENT
from core.errors import ApprovalRequired
from core.models import Advice, CleanupRequest, Plan, Route
from core.pending import Claimed, PendingAction
from core.timestamps import iso_utc

if TYPE_CHECKING:
    from core.operations import Attempt


@dataclass(frozen=True)
class TwoPersonRule:
    """Which write requests a second operator must approve before they run."""

    #: ``TWO_PERSON_FORCE_DRAIN``: cleanup-stale-deployments with ``forceDrain: true``.
    force_drain: bool = True

    def applies(self, route: str, request: object) -> bool:
        """Whether the validated ``request`` for ``route`` needs a second operator."""
        return (
            self.force_drain
            and route == "cleanup-stale-deployments"
            and isinstance(request, CleanupRequest)
            and request.force_drain
        )


@dataclass(frozen=True)
class Approval:
    """A second operator's approval of a held write, as its one successful claim returned it."""

    approval_id: str
    requested_by: str
    approved_by: str

    def audit_context(self) -> dict[str, str]:
        """What the approved write's audit entry records beside its actor (the approver)."""
        return {
            "approvalId": self.approval_id,
            "requestedBy": self.requested_by,
            "approvedBy": self.approved_by,
        }

    @classmethod
    def of(cls, claimed: Claimed) -> Approval | None:
        """The approval a claim amounts to: None for an ordinary (not held) action."""
        requested_by = claimed.action.requested_by
        if requested_by is None or claimed.approved_by is None:
            return None
        return cls(claimed.id, requested_by, claimed.approved_by)


class HeldWrites(Protocol):
    """Where held writes wait (``core.pending.PendingActions`` over Redis; a fake in tests)."""

    async def hold(self, action: PendingAction, requested_by: str) -> tuple[str, PendingAction]:
        """Store ``action`` for a second operator: its approval id, and it as stored."""
        ...

    async def claim_as(
        self, action_id: str, *, by: str | None, environment: str = DEFAULT_ENVIRONMENT
    ) -> Claimed:
        """Consume it once, refusing its requester (``SelfApprovalRefused``) and expiry."""
        ...

    async def peek(
        self, action_id: str, environment: str = DEFAULT_ENVIRONMENT
    ) -> PendingAction | None:
        """Read it (held in ``environment``) without consuming it."""
        ...


class ApprovalGate:
    """What ``Operations`` consults before a write: the rule, and where held writes wait."""

    def __init__(
        self, rule: TwoPersonRule, store: HeldWrites, *, environment: str = DEFAULT_ENVIRONMENT
    ) -> None:
        self.rule = rule
        self._store = store
        #: Where the writes it holds run once approved (the ``Operations`` it belongs to).
        self._environment = environment

    def applies(self, route: str, request: object) -> bool:
        return self.rule.applies(route, request)

    async def hold(
        self,
        attempt: Attempt,
        route: Route,
        args: Mapping[str, Any],
        advice: Advice,
        plan: Plan | None,
    ) -> ApprovalRequired:
        """Store the write for a second operator; the error that tells the requester so."""
        context = {**attempt.context, **({"reason": attempt.reason} if attempt.reason else {})}
        action = PendingAction(
            route=route,
            args=dict(args),
            environment=self._environment,
            preview=advice.preview,
            offered_to=attempt.actor.id,
            context=context,
            origin_request_id=attempt.request_id,
            plan=plan,
        )
        approval_id, held = await self._store.hold(action, attempt.actor.id)
        expires = iso_utc(held.expires_at) if held.expires_at else None
        return ApprovalRequired(
            f"{route} with forceDrain needs a second operator's approval: nothing was changed. "
            f"Another operator approves approval id {approval_id} before {expires}, which runs it.",
            data={
                "approvalId": approval_id,
                "expiresAt": expires,
                "requestedBy": attempt.actor.id,
                "route": route,
                "environment": self._environment,
                "preview": advice.preview,
            },
        )
