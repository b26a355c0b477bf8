"""Turn the core's write advice into pending actions: the buttons carry only their ids.

Each action is stored with the environment whose readout advised it: a click acts there only.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import PendingActionUnavailable
from core.models import Advice, DoctorReport
from core.pending import PendingAction, PendingActions
from handlers.blocks.offers import MAX_BUTTONS, Offer


async def offer_writes(
    pending: PendingActions,
    advice: Sequence[Advice],
    *,
    environment: str,
    offered_to: str,
    context: dict[str, str],
    origin_request_id: str,
    baseline: DoctorReport | None,
) -> tuple[list[Offer], str | None]:
    """Store each write advice (at most five); on a store failure, no buttons and the reason."""
    offers: list[Offer] = []
    for item in advice:
        if item.route is None:
            continue  # read-only advice (fix connectivity, inspect) is text, never a button
        if len(offers) == MAX_BUTTONS:
            break
        action = PendingAction(
            route=item.route,
            args=item.args,
            environment=environment,
            preview=item.preview,
            offered_to=offered_to,
            context={**context, "title": item.title},
            origin_request_id=origin_request_id,
            baseline=baseline,
            plan=item.plan,
            # Under the two-person rule the requester cannot claim it: a second operator does.
            requested_by=offered_to if item.needs_approval else None,
        )
        try:
            offers.append(Offer(item, await pending.offer(action), environment))
        except PendingActionUnavailable as exc:
            return [], exc.message
    return offers, None
