"""The form (a modal) that builds a triage filter: ``/restate invocations`` without filter words.

Pure: ``filter_modal`` renders it, ``modal_filter`` reads a submission back into the filter's
fields (the same fields as the HTTP body), which core then validates. The environment to query
rides in ``private_metadata`` with the channel; with several environments the form also offers
a choice of environment (``modal_environment`` reads it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from core.environments import Environment
from handlers.blocks.environment import env_badge
from handlers.ids import env_value, split_env_value

FILTER_VIEW = "restate.triage.filter"
ENVIRONMENT_BLOCK = "triage.environment"
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


def _environment_choice(env: Environment, choices: Sequence[Environment]) -> InputBlock:
    options = [Option(value=e.name, text=env_badge(e)) for e in choices]
    return InputBlock(
        block_id=ENVIRONMENT_BLOCK,
        label="Environment",
        element=StaticSelectElement(
            action_id="value",
            options=options,
            initial_option=next(o for o in options if o.value == env.name),
        ),
    )


def filter_modal(
    channel: str, env: Environment | None = None, choices: Sequence[Environment] = ()
) -> View:
    """A form for the filter; the channel to post the readout in and the environment ``env``
    ride in ``private_metadata``. With several ``choices`` the form offers them, ``env`` first
    chosen."""
    first = [_environment_choice(env, choices)] if env is not None and len(choices) > 1 else []
    return View(
        type="modal",
        callback_id=FILTER_VIEW,
        private_metadata=channel if env is None else env_value(env.name, channel),
        title="Select invocations",
        submit="Show readout",
        close="Cancel",
        blocks=[
            *first,
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


def modal_target(private_metadata: str, values: dict[str, Any]) -> tuple[str, str]:
    """``(environment name, channel)`` of a submission: the form's choice, else its metadata's."""
    name, channel = split_env_value(private_metadata)
    state = (values.get(ENVIRONMENT_BLOCK) or {}).get("value") or {}
    chosen = (state.get("selected_option") or {}).get("value")
    return (str(chosen) if chosen else name), channel
