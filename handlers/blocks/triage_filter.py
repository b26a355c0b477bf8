"""The form (a modal) that builds a triage filter: ``/restate invocations`` without filter words.

Pure: ``filter_modal`` renders it, ``modal_filter`` reads a submission back into the filter's
fields (the same fields as the HTTP body), which core then validates.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

FILTER_VIEW = "restate.triage.filter"
#: Modal block id -> the filter field it sets (the action id inside each block is "value").
MODAL_FIELDS = {
    "triage.service": "service",
    "triage.key_prefix": "keyPrefix",
    "triage.status": "status",
    "triage.error_code": "errorCode",
    "triage.error": "errorContains",
    "triage.older_than": "olderThan",
}
_STATUS_CHOICES = ("paused", "backing-off", "suspended", "running", "pending", "completed")
_AGE_CHOICES = ("15m", "1h", "6h", "1d", "7d")


def _text_input(block_id: str, label: str, hint: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=PlainTextInputElement(action_id="value", placeholder=hint, max_length=200),
    )


def filter_modal(channel: str) -> View:
    """A form for the filter; the channel to post the readout in rides in ``private_metadata``."""
    return View(
        type="modal",
        callback_id=FILTER_VIEW,
        private_metadata=channel,
        title="Select invocations",
        submit="Show readout",
        close="Cancel",
        blocks=[
            _text_input("triage.service", "Service", "e.g. CheckoutWorkflow"),
            _text_input("triage.key_prefix", "Key prefix", "e.g. tenant-7-"),
            InputBlock(
                block_id="triage.status",
                label="Status",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id="value",
                    placeholder="any status",
                    options=[Option(value=s, text=s) for s in _STATUS_CHOICES],
                ),
            ),
            _text_input("triage.error_code", "Error code", "e.g. RT0011"),
            _text_input("triage.error", "Error text contains", "e.g. connection refused"),
            InputBlock(
                block_id="triage.older_than",
                label="Older than",
                optional=True,
                element=StaticSelectElement(
                    action_id="value",
                    placeholder="any age",
                    options=[Option(value=a, text=a) for a in _AGE_CHOICES],
                ),
            ),
        ],
    )


def modal_filter(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted form (``view.state.values``) as the filter's fields; empty ones left out."""
    args: dict[str, Any] = {}
    for block_id, field in MODAL_FIELDS.items():
        state = (values.get(block_id) or {}).get("value") or {}
        if state.get("selected_options"):
            args[field] = [str(o.get("value")) for o in state["selected_options"]]
        elif state.get("selected_option"):
            args[field] = str(state["selected_option"].get("value"))
        elif state.get("value"):
            args[field] = str(state["value"]).strip()
    return args
