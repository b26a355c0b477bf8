"""Errors as Slack messages: code, what happened, what to do next, and the request id."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from core.errors import OpsError, PermissionRequired, WorkflowRetryBlocked
from handlers.blocks.format import Rendered, clip, code, esc, fallback, sections

MESSAGE_CHARS = 1500
#: Where a Slack refusal keeps the badge of its environment (in ``OpsError.data``).
ENVIRONMENT_KEY = "environment"
MAX_INVOCATION_IDS = 20
#: A blocked recovery's reason in words (the code stays beside it for searching).
BLOCKED_WORDS = {
    "active-invocation": "a run of this key is still active",
    "already-succeeded": "the key's run already succeeded",
    "purge-failed": "killing or purging a run failed",
    "query-failed": "Restate's invocation query failed",
}


def environment_of(error: OpsError) -> str | None:
    """The badge of the environment the error concerns, when messages name it
    (``handlers.errors.naming_environment``)."""
    badge = error.data.get(ENVIRONMENT_KEY)
    return badge if isinstance(badge, str) else None


def next_step(error: OpsError) -> str:
    if isinstance(error, WorkflowRetryBlocked):
        return error.advice
    if isinstance(error, PermissionRequired):
        where = (
            f"the operator_allowlist of {environment_of(error)}"
            if environment_of(error)
            else "OPERATOR_ALLOWLIST"
        )
        return (
            f"{error.next_step} In Slack: ask an admin to add your user id, or a user group "
            f"you belong to, to {where}."
        )
    return error.next_step


def error_lines(error: OpsError) -> list[str]:
    """mrkdwn lines: [environment ·] code and message, blocked reason and invocation ids, next
    step, request."""
    badge = environment_of(error)
    prefix = f"{esc(badge)} · " if badge else ""
    lines = [f"{prefix}{code(error.code, 60)}: {esc(clip(error.message, MESSAGE_CHARS))}"]
    if isinstance(error, WorkflowRetryBlocked):
        ids = error.invocation_ids[:MAX_INVOCATION_IDS]
        more = (
            f" …and {len(error.invocation_ids) - len(ids)} more"
            if len(ids) < len(error.invocation_ids)
            else ""
        )
        words = BLOCKED_WORDS.get(error.reason, error.reason)
        lines.append(f"*Reason:* {words} ({code(error.reason, 40)})")
        lines.append("*Invocations:* " + (", ".join(code(i, 80) for i in ids) or "none") + more)
    lines.append(f"*Next:* {esc(next_step(error))}")
    lines.append(f"Request id: {code(error.request_id or 'none')}")
    return lines


def plain_error_lines(error: OpsError) -> list[str]:
    badge = environment_of(error)
    prefix = f"{badge} · " if badge else ""
    lines = [f"{prefix}{error.code}: {clip(error.message, MESSAGE_CHARS)}"]
    if isinstance(error, WorkflowRetryBlocked):
        lines.append(f"Reason: {error.reason}; invocations: {', '.join(error.invocation_ids)}")
    lines += [f"Next: {next_step(error)}", f"Request id: {error.request_id or 'none'}"]
    return lines


def error_message(error: OpsError, usage: str | None = None) -> Rendered:
    """The ephemeral reply of the global error handler."""
    blocks: list[Block] = sections("❌ That did not work", error_lines(error), "restate.error")
    if usage:
        blocks += usage_blocks(usage)
    return Rendered(blocks, fallback(["❌", *plain_error_lines(error), usage or ""]))


def usage_blocks(usage: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=f"*Usage*\n```{clip_usage(usage)}```"))]


def clip_usage(usage: str) -> str:
    return usage if len(usage) <= 2800 else usage[:2799] + "…"


def usage_message(problem: str, usage: str, request_id: str | None = None) -> Rendered:
    """Unknown or malformed command text: what was wrong, the code, the usage and the request id."""
    lines = [
        f"❌ {code('INVALID_INPUT')}: {esc(clip(problem, 1000))}",
        "*Next:* correct the command (usage below) and send it again.",
    ]
    if request_id:
        lines.append(f"Request id: {code(request_id)}")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        *usage_blocks(usage),
    ]
    plain = [f"INVALID_INPUT: {problem}", f"Request id: {request_id or 'none'}", "Usage:", usage]
    return Rendered(blocks, fallback(plain))


def internal_error_message(request_id: str | None = None) -> Rendered:
    text = "❌ Something went wrong inside restate-ops; nothing more is known here."
    if request_id:
        text += f" Request id: {code(request_id)}."
    text += " The bot's logs have the details; run `/restate doctor` to see the current state."
    return Rendered([SectionBlock(text=MarkdownTextObject(text=text))], text)
