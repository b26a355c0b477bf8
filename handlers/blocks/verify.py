"""The verify readout: doctor run again after a write, and what changed against the first one."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from core.operations import DoctorResult
from handlers.blocks.doctor import context
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import Rendered, clip, code, esc, fallback, sections
from handlers.blocks.readout import component_lines, plain_component_lines
from handlers.blocks.verdict import headline, plain_trouble_line, trouble_line

MAX_CHANGES = 40


def change_lines(changes: Sequence[str] | None) -> list[str]:
    if changes is None:
        return ["No first readout to compare with."]
    if not changes:
        return ["Nothing changed against the first readout."]
    lines = [f"• {esc(clip(c, 300))}" for c in changes[:MAX_CHANGES]]
    extra = len(changes) - MAX_CHANGES
    return lines + ([f"…and {extra} more"] if extra > 0 else [])


def verify_message(
    result: DoctorResult,
    changes: Sequence[str] | None,
    *,
    action: str,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """The verdict now, the components, the changes, and what doctor still recommends."""
    report = result.report
    heading = f"{esc(env.prefix)}🔁 Verify after {esc(clip(action, 120))}: {headline(report)}"
    still = (
        [f"• {esc(clip(a.title, 150))}" for a in result.advice]
        + ["The message above offers what is still valid as buttons."]
        if result.advice
        else ["Nothing left to do: doctor recommends no action."]
    )
    blocks: list[Block] = [
        *sections(heading, [trouble_line(report), *component_lines(report)], "restate.verify"),
        *sections("What changed", change_lines(changes), "restate.changes"),
        *sections("Still recommended", still, "restate.still"),
        context(f"Verify request {code(result.request_id)}"),
    ]
    text = fallback(
        [
            f"{env.prefix}Verify after {action}: {headline(report)}",
            plain_trouble_line(report),
            *plain_component_lines(report),
            *(changes if changes else ["No change against the first readout."]),
        ]
    )
    return Rendered(blocks, text)
