"""The core's advice as action rows: one section per advice, one sentence, its button beside it.

A write button appears because the advice has a write route, never because the renderer looked
at a status; it carries only the opaque id of the pending action stored server-side (after its
environment's name, ``handlers.ids.env_value``). With several environments, every label and
confirm title starts with the environment's badge (``🔴 PROD · Recover …``). A stuck run
(read-only ``inspect`` advice naming an invocation) gets a *Details* button whose answer is
ephemeral. Primary or danger follows what the action does (``Advice.destructive``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from core.environments import DEFAULT_ENVIRONMENT
from core.models import Advice, CleanupPlan, DoctorReport
from handlers.blocks.actions_text import action_sentence
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import (
    BUTTON_TEXT,
    CONFIRM_TEXT,
    CONFIRM_TITLE,
    SECTION_TEXT,
    clip,
    esc,
    mention,
    shorten_middle,
)
from handlers.blocks.links import Links
from handlers.ids import DETAILS_ACTION_PREFIX, env_value, offer_block_id, run_action_id

#: Write buttons per message; an incident needs few choices (and Slack allows 50 blocks).
MAX_BUTTONS = 5
#: Action rows per message (writes and inspections together).
MAX_ROWS = 8
LABEL_CHARS = 32
FIX_CONNECTIVITY_FIRST = (
    "🔌 *Fix connectivity first*, then run `/restate doctor` again. "
    "No write action is offered: every write uses the same admin API path."
)
_SEE_THREAD = " (full preview in the readout's details)"
#: The confirm dialog of a write under the two-person rule (``Advice.needs_approval``) opens so.
_SECOND_OPERATOR = (
    "A second operator must approve this: the requester cannot. Approving runs it now. "
)
_CONFIRM_LABEL = {
    "force-redeploy": "Register",
    "cleanup-stale-deployments": "Delete",
    "recover-stuck-workflow": "Recover",
}


@dataclass(frozen=True)
class Offer:
    """A write advice and the id of its pending action, stored in ``environment``."""

    advice: Advice
    pending_id: str
    environment: str = DEFAULT_ENVIRONMENT


def connectivity_blocked(advice: Sequence[Advice]) -> bool:
    """True when the core advises fixing connectivity and offers no write at all."""
    return any(a.kind == "fix-connectivity" for a in advice) and not any(a.route for a in advice)


def advice_lines(advice: Sequence[Advice]) -> list[str]:
    """Every advice with its full preview (the thread's details; the channel has the rows)."""
    if not advice:
        return ["Nothing to do: doctor recommends no action."]
    return [f"• *{esc(clip(a.title, 120))}*: {esc(clip(a.preview, 900))}" for a in advice]


def confirm_text(preview: str) -> str:
    """The preview within the dialog's 300 characters, saying where the rest is when cut."""
    if len(preview) <= CONFIRM_TEXT:
        return preview
    return clip(preview, CONFIRM_TEXT - len(_SEE_THREAD)) + _SEE_THREAD


def label(advice: Advice, env: EnvTag = NO_TAG) -> str:
    """A short button label; an id in it is shortened in the middle, never cut at its end."""
    args = advice.args
    if advice.route == "recover-stuck-workflow":
        text = f"Recover {shorten_middle(str(args.get('serviceKey', '')), LABEL_CHARS - 8)}"
    elif advice.route == "cleanup-stale-deployments" and isinstance(advice.plan, CleanupPlan):
        count = len(advice.plan.doing("delete"))
        text = f"Delete {count} deployment{'' if count == 1 else 's'}"
    elif advice.route == "force-redeploy":
        text = "Register"
    else:
        text = shorten_middle(advice.title, LABEL_CHARS)
    return env.title(text, BUTTON_TEXT)


def button(offer: Offer, index: int, env: EnvTag = NO_TAG) -> ButtonElement:
    advice = offer.advice
    style = "danger" if advice.destructive else "primary"
    text, confirm = label(advice, env), _CONFIRM_LABEL.get(advice.route or "", "Run it")
    preview = advice.preview
    if advice.needs_approval:
        text = env.title("Approve", BUTTON_TEXT)
        confirm, preview = "Approve and run", _SECOND_OPERATOR + preview
    return ButtonElement(
        text=PlainTextObject(text=text, emoji=True),
        action_id=run_action_id(advice.route or "none", index),
        value=env_value(offer.environment, offer.pending_id),
        style=style,
        confirm=ConfirmObject(
            title=PlainTextObject(text=env.title(advice.title, CONFIRM_TITLE), emoji=env.emoji),
            text=PlainTextObject(text=confirm_text(preview), emoji=False),
            confirm=PlainTextObject(text=confirm),
            deny=PlainTextObject(text="Cancel"),
            style=style,
        ),
    )


def second_operator_note(requested_by: str) -> str:
    """Beside an "Approve" button: who cannot click it, and what a click by anyone else does."""
    return (
        f"🔐 Two-person rule: a second operator must approve; {mention(requested_by)} cannot. "
        "Approving runs it at once."
    )


def details_button(invocation_id: str, index: int, env: EnvTag = NO_TAG) -> ButtonElement:
    """Shows the stuck run's details (read again from ``env``) privately; changes nothing."""
    return ButtonElement(
        text=PlainTextObject(text=env.title("Details", BUTTON_TEXT), emoji=env.emoji),
        action_id=f"{DETAILS_ACTION_PREFIX}{index}",
        value=env_value(env.name, invocation_id)[:2000],
    )


def _row(
    advice: Advice,
    accessory: ButtonElement | None,
    block_id: str,
    report: DoctorReport | None,
    links: Links,
) -> SectionBlock:
    text = clip(action_sentence(advice, report, links), SECTION_TEXT)
    return SectionBlock(text=MarkdownTextObject(text=text), accessory=accessory, block_id=block_id)


def offer_blocks(
    advice: Sequence[Advice],
    offers: Sequence[Offer],
    *,
    threaded: bool,
    report: DoctorReport | None = None,
    links: Links | None = None,
    env: EnvTag = NO_TAG,
) -> list[Block]:
    """One row per advice: the sentence, and the button when there is one (at most five writes)."""
    links = links or Links()
    if not advice:
        text = "✅ Nothing to do: doctor recommends no action."
        return [SectionBlock(text=MarkdownTextObject(text=text), block_id="restate.advice")]
    blocks: list[Block] = []
    if connectivity_blocked(advice):
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=FIX_CONNECTIVITY_FIRST), block_id="restate.blocked"
            )
        )
    unused = list(enumerate(offers[:MAX_BUTTONS]))
    for row, item in enumerate(advice[:MAX_ROWS]):
        accessory: ButtonElement | None = None
        match = next((pair for pair in unused if pair[1].advice == item), None)
        if match is not None:
            unused.remove(match)
            accessory = button(match[1], match[0], env)
        elif item.kind == "inspect" and isinstance(item.args.get("invocationId"), str):
            accessory = details_button(item.args["invocationId"], row, env)
        blocks.append(_row(item, accessory, offer_block_id(threaded, row), report, links))
    if len(advice) > MAX_ROWS:
        more = len(advice) - MAX_ROWS
        note = f"…and {more} more recommendation{'s' if more != 1 else ''} in the details."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=note)))
    return blocks


def plain_advice_lines(advice: Sequence[Advice]) -> list[str]:
    if connectivity_blocked(advice):
        return ["Fix connectivity first; no write action is offered."]
    return [f"Recommended: {a.title}" for a in advice] or ["Recommended: nothing to do."]
