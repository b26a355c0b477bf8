"""The *Details* of a stuck run (ephemeral): what doctor sees of it now and the exact next step."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from core.models import DoctorReport
from handlers.blocks.actions_text import kill_command, stuck_item
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import Rendered, ago, clip, code, esc, ident
from handlers.blocks.links import Links


def invocation_details(
    report: DoctorReport, invocation_id: str, links: Links, env: EnvTag = NO_TAG
) -> Rendered:
    """The invocation as the fresh readout shows it, or that it is no longer stuck."""
    item = stuck_item(report, invocation_id)
    if item is None:
        text = (
            f"{esc(env.prefix)}{links.invocation(invocation_id)} is no longer stuck in the "
            "latest readout "
            "(it finished, was killed, or recovered). Run `/restate doctor` for the current state."
        )
        return Rendered([SectionBlock(text=MarkdownTextObject(text=text))], text)
    target = "/".join(p for p in (item.service_name, item.service_key, item.handler) if p)
    lines = [
        f"{esc(env.prefix)}*{esc(item.status)}* {ident(target, 120)}",
        f"*Invocation:* {links.invocation(item.id)}",
        f"*Retries:* {item.retry_count if item.retry_count is not None else 'unknown'}",
        f"*Last change:* {ago(item.modified_at, report.checked_at)}",
    ]
    detail = ": ".join(p for p in (item.error_code, item.error_message) if p)
    if detail:
        lines.append(f"*Last error:* {code(detail, 1500)}")
    lines += [
        "*Why no recover button:* the run is still active, and recover refuses active runs.",
        "*Next:* fix the cause (the error above), then let it retry or resume it; "
        f"or kill it: {code(kill_command(item.id), 150)}, then run `/restate doctor`: "
        "a killed workflow run shows as failed and can be recovered.",
    ]
    if links.admin_url:
        kill_url = f"{links.admin_url.rstrip('/')}/invocations/{item.id}/kill"
        lines.append(f"Without the CLI: {code(f'curl -X PATCH {kill_url}', 300)}")
    text = "\n".join(lines)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))]
    return Rendered(blocks, f"{env.prefix}{item.status} {target} ({item.id})")
