"""Forms for the writes whose parameters nobody should type: options from the live readout.

``/restate recover`` and ``/restate cleanup`` without arguments open a modal at once (a loading
view: Slack's trigger expires in 3 s, doctor may take longer), then fill it from doctor: the
workflow keys doctor saw fail, or the registered deployment URLs. Each option's value is its
index into the choices kept in the view's ``private_metadata`` (with the channel to post the
preview in and the environment the choices came from), so a 60-character key or a long URL never
meets an option's 150-character limit. The submission is then previewed exactly like the typed
command, on that environment: nothing runs without the confirm button. The metadata only picks
the environment; the submitter is authorized against that environment's allowlist.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from core.environments import DEFAULT_ENVIRONMENT
from core.models import DoctorReport
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import clip, esc, shorten_middle
from handlers.blocks.verdict import headline

FormKind = Literal["recover", "cleanup"]
CALLBACK = {"recover": "restate.form.recover", "cleanup": "restate.form.cleanup"}
CHOICE_BLOCK, CHOICE_ACTION = "restate.form.choice", "choice"
REASON_BLOCK, REASON_ACTION = "restate.form.reason", "reason"
FORCE_BLOCK, FORCE_ACTION = "restate.form.force", "force"
#: Slack's limits: 100 options per select, 3,000 characters of private_metadata.
MAX_CHOICES = 100
METADATA_CHARS = 3000
_TITLE = {"recover": "Recover a workflow key", "cleanup": "Clean up deployments"}


@dataclass(frozen=True)
class FormState:
    """What the form carries between opening and submission (its ``private_metadata``)."""

    channel: str
    #: recover: ``[serviceName, serviceKey]`` pairs; cleanup: ``[serviceUrl]``.
    choices: list[list[str]]
    #: The environment whose readout the choices came from (the preview goes there).
    environment: str = DEFAULT_ENVIRONMENT

    def dump(self) -> str:
        data: dict[str, object] = {"c": self.channel, "o": self.choices}
        if self.environment != DEFAULT_ENVIRONMENT:
            data["e"] = self.environment
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: object) -> FormState:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
        choices = data.get("o") if isinstance(data, dict) else None
        channel = data.get("c") if isinstance(data, dict) else None
        environment = data.get("e", DEFAULT_ENVIRONMENT) if isinstance(data, dict) else None
        if (
            not isinstance(channel, str)
            or not isinstance(choices, list)
            or not isinstance(environment, str)
        ):
            raise ValueError("the form's metadata is not restate-ops'")
        pairs = [[str(part) for part in c] for c in choices if isinstance(c, list)]
        return cls(channel, pairs, environment)


def recover_choices(report: DoctorReport) -> list[list[str]]:
    """The workflow keys doctor saw terminal-fail, newest first, each once."""
    seen: list[list[str]] = []
    for failure in report.invocations.recent_failures:
        pair = [failure.service_name, failure.service_key or ""]
        if failure.service_key and pair not in seen:
            seen.append(pair)
    return seen


def cleanup_choices(report: DoctorReport) -> list[list[str]]:
    """The registered deployment URLs (the one to keep is chosen among them), each once."""
    urls: list[list[str]] = []
    for item in report.deployments.items:
        if [item.service_url] not in urls:
            urls.append([item.service_url])
    return urls


def fit_choices(
    channel: str, choices: Sequence[list[str]], environment: str = DEFAULT_ENVIRONMENT
) -> FormState:
    """As many choices as fit the metadata (and a select) in order."""
    state = FormState(channel, [], environment)
    for choice in choices[:MAX_CHOICES]:
        candidate = FormState(channel, [*state.choices, list(choice)], environment)
        if len(candidate.dump()) > METADATA_CHARS:
            break
        state = candidate
    return state


def _label(kind: FormKind, choice: list[str]) -> str:
    text = f"{choice[0]} / {choice[1]}" if kind == "recover" else choice[0]
    return shorten_middle(text, 75)


def _base(kind: FormKind, state: FormState, blocks: list[Block], *, submit: bool) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK[kind],
        title=PlainTextObject(text=_TITLE[kind]),
        submit=PlainTextObject(text="Preview") if submit else None,
        close=PlainTextObject(text="Cancel"),
        private_metadata=state.dump(),
        blocks=blocks,
    )


def loading_view(kind: FormKind, channel: str, env: EnvTag = NO_TAG) -> View:
    text = f"{esc(env.prefix)}⏳ Reading Restate (doctor) for the current choices…"
    return _base(
        kind,
        FormState(channel, [], env.name),
        [SectionBlock(text=MarkdownTextObject(text=text))],
        submit=False,
    )


def form_view(kind: FormKind, state: FormState, report: DoctorReport, env: EnvTag = NO_TAG) -> View:
    """The form with its choices; none to offer says so (and has no submit button)."""
    status = ContextBlock(
        elements=[MarkdownTextObject(text=esc(clip(env.prefix + headline(report), 150)))]
    )
    if not state.choices:
        none = (
            "Doctor sees no terminal-failed workflow key to recover."
            if kind == "recover"
            else "Doctor sees no registered deployment."
        )
        return _base(
            kind, state, [status, SectionBlock(text=MarkdownTextObject(text=none))], submit=False
        )
    options = [
        Option(text=PlainTextObject(text=_label(kind, choice)), value=str(n))
        for n, choice in enumerate(state.choices)
    ]
    label = "Failed workflow key" if kind == "recover" else "Deployment URL to keep"
    blocks: list[Block] = [
        status,
        InputBlock(
            label=label,
            block_id=CHOICE_BLOCK,
            element=StaticSelectElement(action_id=CHOICE_ACTION, options=options),
        ),
    ]
    if kind == "recover":
        blocks.append(
            InputBlock(
                label="Reason (audited)",
                block_id=REASON_BLOCK,
                optional=True,
                element=PlainTextInputElement(action_id=REASON_ACTION, max_length=500),
            )
        )
    else:
        blocks.append(
            InputBlock(
                label="Busy deployments",
                block_id=FORCE_BLOCK,
                optional=True,
                element=CheckboxesElement(
                    action_id=FORCE_ACTION,
                    options=[
                        Option(
                            text=PlainTextObject(
                                text="force-drain: delete them too (their runs break)"
                            ),
                            value="force-drain",
                        )
                    ],
                ),
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Nothing changes yet: *Preview* posts what would change, with a "
                    "confirm button, in the channel."
                )
            ]
        )
    )
    return _base(kind, state, blocks, submit=True)


@dataclass(frozen=True)
class Submitted:
    """A submitted form as the typed command it stands for."""

    kind: FormKind
    channel: str
    args: dict[str, Any]
    reason: str | None
    #: Where the preview goes: checked against the configured environments on submit.
    environment: str = DEFAULT_ENVIRONMENT


def submitted(kind: FormKind, view: dict[str, Any]) -> Submitted:
    """The form's values; raises ``ValueError`` naming the block when the choice is missing."""
    state = FormState.load(view.get("private_metadata"))
    values = (view.get("state") or {}).get("values") or {}
    selected = ((values.get(CHOICE_BLOCK) or {}).get(CHOICE_ACTION) or {}).get("selected_option")
    raw = selected.get("value") if isinstance(selected, dict) else None
    if not isinstance(raw, str) or not raw.isdigit() or int(raw) >= len(state.choices):
        raise ValueError(CHOICE_BLOCK)
    choice = state.choices[int(raw)]
    if kind == "recover":
        reason = ((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("value")
        args = {"serviceName": choice[0], "serviceKey": choice[1]}
        reason = reason if isinstance(reason, str) else None
        return Submitted(kind, state.channel, args, reason, state.environment)
    boxes = ((values.get(FORCE_BLOCK) or {}).get(FORCE_ACTION) or {}).get("selected_options")
    force = any(o.get("value") == "force-drain" for o in boxes or [] if isinstance(o, dict))
    cleanup: dict[str, Any] = {"serviceUrl": choice[0], "forceDrain": force}
    return Submitted(kind, state.channel, cleanup, None, state.environment)
