"""The approving side of the two-person rule (``core.two_person``): a second operator runs a held
write by its approval id, from any surface (a Slack click, the HTTP route, the CLI).

:func:`claim_write` is the one claim of a stored write: an ordinary offer goes to whoever claims
it first; a held one refuses its requester (``SELF_APPROVAL_REFUSED``, audited as denied) and an
expired request (audited), and its first other operator's claim is the approval. Each claim is
one Redis script, so with several replicas one approval wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.authz import can_operate
from core.environments import DEFAULT_ENVIRONMENT, Environments
from core.errors import (
    InvalidInput,
    PendingActionUnavailable,
    PermissionRequired,
    SelfApprovalRefused,
)
from core.operations import Attempt, Operations, WriteResult
from core.pending import PendingAction
from core.two_person import Approval, HeldWrites

#: The audit route of an approval whose id names no stored write (its own route is unknown).
UNKNOWN_ROUTE = "approve"


@dataclass(frozen=True)
class ClaimedWrite:
    action: PendingAction
    #: The second operator's approval, when the write was held for one.
    approval: Approval | None = None


async def claim_write(
    operations: Operations,
    store: HeldWrites,
    attempt: Attempt,
    route: str,
    action_id: str,
    environment: str = DEFAULT_ENVIRONMENT,
) -> ClaimedWrite:
    """Claim the stored write ``action_id`` once for ``attempt.actor``.

    The refusals that belong to the two-person rule (the requester's own approval, an expired
    request) are audited under ``route``; an unknown or used id is raised as it is.
    """
    try:
        claimed = await store.claim_as(action_id, by=attempt.actor.id, environment=environment)
    except SelfApprovalRefused as exc:
        await operations.refuse(attempt, route, {"approvalId": action_id}, exc)
    except PendingActionUnavailable as exc:
        if exc.data.get("state") == "expired":
            await operations.refuse(attempt, route, {"approvalId": action_id}, exc)
        raise exc.with_request_id(attempt.request_id) from None
    return ClaimedWrite(claimed.action, Approval.of(claimed))


class Approvals:
    """A second operator approves a held write by its id, which runs it in its environment."""

    def __init__(self, environments: Environments, store: HeldWrites) -> None:
        self._environments = environments
        self._store = store

    async def show(
        self, attempt: Attempt, approval_id: str, *, environment: str | None = None
    ) -> PendingAction:
        """The held write behind ``approval_id``, read without consuming it (for a prompt);
        refused as :meth:`approve` refuses it (for another ``environment``'s write too)."""
        return (await self._held(attempt, approval_id, environment))[0]

    async def approve(
        self, attempt: Attempt, approval_id: str, *, environment: str | None = None
    ) -> WriteResult:
        """Approve and run the held write in the environment that held it; refused (and
        audited) for its requester, after its expiry, for an unknown or used id, for anyone
        without operate permission, and, when the surface says which ``environment`` the
        approver acts in (and was authorized for), for another environment's write."""
        held, operations = await self._held(attempt, approval_id, environment)
        claimed = await claim_write(
            operations, self._store, attempt, held.route, approval_id, held.environment
        )
        action = claimed.action
        if attempt.reason is None and action.context.get("reason"):
            attempt = Attempt(
                actor=attempt.actor,
                reason=action.context["reason"],
                context=attempt.context,
                request_id=attempt.request_id,
            )
        return await operations.execute(
            attempt, action.route, action.args, expected=action.plan, approval=claimed.approval
        )

    async def _held(
        self, attempt: Attempt, approval_id: str, environment: str | None
    ) -> tuple[PendingAction, Operations]:
        """The held write and the operations of its environment (where refusals are audited
        too; an unknown id's in the environment asked for, else the default one's)."""
        args = {"approvalId": approval_id}
        held: PendingAction | None = None
        env = self._environments.resolve(environment)
        for candidate in self._environments:  # each environment has its own key space
            held = await self._store.peek(approval_id, candidate.name)
            if held is not None:
                env = candidate
                break
        route = held.route if held is not None else UNKNOWN_ROUTE
        if not can_operate(attempt.actor.role):
            denied = PermissionRequired(
                f"{attempt.actor.id} does not have system operate permission."
            )
            await env.operations.refuse(attempt, route, args, denied)
        if held is None or held.requested_by is None:
            unknown = PendingActionUnavailable(
                f"No write waits for approval under {approval_id}: it was approved already, it "
                "expired over an hour ago, or the id is wrong. Nothing was changed.",
                data={"state": "unknown", "approvalId": approval_id},
            )
            await env.operations.refuse(attempt, route, args, unknown)
        if environment is not None and env.name != environment:
            elsewhere = InvalidInput(
                "environment",
                f"this approval belongs to the environment {env.name}: approve it there, as "
                "an operator of that environment",
            )
            await env.operations.refuse(attempt, route, args, elsewhere)
        return held, env.operations
