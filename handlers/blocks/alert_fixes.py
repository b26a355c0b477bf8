"""An alert's triage fixes as buttons: each opens triage's preview of its filter in the thread.

The buttons are the triage readout's own (``handlers.blocks.triage.preview_action_id``, the filter
as value), so the triage listener previews them: authorized at click time, audited, the exact ids
stored, then Run or Approve on the preview as for any ``/restate invocations`` readout.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from core.watch.fixes import TriageFix
from handlers.blocks.doctor import context
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import BUTTON_TEXT
from handlers.blocks.triage import MAX_VALUE, preview_action_id
from handlers.ids import env_value

FIXES_BLOCK = "restate.alert.fixes"


def filter_value(flt: dict[str, object]) -> str:
    """The filter as a button value, written as ``/restate invocations`` writes it."""
    return json.dumps(flt, separators=(",", ":"), sort_keys=True)


def fix_blocks(fixes: Sequence[TriageFix], env: EnvTag = NO_TAG) -> list[Block]:
    """One row of preview buttons, or nothing when the alert has no fix. Each button carries
    the alert's environment: the preview (and what it runs) is that environment's."""
    values = [(fix, env_value(env.name, filter_value(fix.filter))) for fix in fixes]
    elements = [
        ButtonElement(
            text=env.title(fix.label, BUTTON_TEXT),
            action_id=preview_action_id(fix.action, fix.deployment),
            value=value,
            style="danger" if fix.destructive else None,
        )
        for fix, value in values
        if len(value) <= MAX_VALUE
    ]
    if not elements:
        return []
    return [
        context(
            "Act on these invocations: a preview with their exact ids comes first, in the thread."
        ),
        ActionsBlock(elements=elements, block_id=FIXES_BLOCK),
    ]
