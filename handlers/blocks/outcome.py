"""The outcome of a confirmed write, posted in the thread under the message that offered it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import OpsError
from core.models import CleanupItem, CleanupResponse, ForceRedeployResponse
from core.operations import WriteResult
from handlers.blocks.errors import error_lines, plain_error_lines
from handlers.blocks.format import Rendered, clip, code, esc, fallback, mention, sections

MAX_IDS = 20
_ACTION_WORD = {"kept": "kept", "deleted": "deleted", "skipped": "skipped", "failed": "failed"}


def _ids(ids: list[str]) -> str:
    shown = ", ".join(code(i, 80) for i in ids[:MAX_IDS]) or "none"
    return shown + (f" …and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else "")


def _cleanup_item(item: CleanupItem) -> str:
    why = item.reason or item.drain_state
    detail = f" ({esc(clip(why, 120))})" if why else ""
    error = f": {esc(clip(item.error, 200))}" if item.error else ""
    emoji = {"kept": "🟢", "deleted": "🗑️", "skipped": "⏭️"}.get(item.action, "❌")
    return (
        f"{emoji} {code(item.id, 60)} {code(item.service_url, 120)} "
        f"{_ACTION_WORD[item.action]}{detail}{error}"
    )


def response_lines(result: WriteResult, args: Mapping[str, Any]) -> tuple[list[str], str]:
    """What was done (mrkdwn lines) and what to do next."""
    response = result.response
    if isinstance(response, ForceRedeployResponse):
        url = str(args.get("serviceUrl", "?"))
        return (
            [f"Registered {code(url)} as deployment {code(response.deployment_id, 80)}."],
            "Old deployments were not touched: if the verify readout still lists them, "
            "clean them up.",
        )
    if isinstance(response, CleanupResponse):
        lines = ["*Per deployment:*", *(_cleanup_item(i) for i in response.report)]
        return (
            lines if response.report else ["Cleanup acknowledged; no deployment report."],
            "Check the verify readout: only the kept deployment (and any skipped ones) remain.",
        )
    lines = [
        f"Killed: {_ids(response.killed)}",
        f"Purged: {_ids(response.purged)}",
        f"Workflow state cleared: {'yes' if response.state_cleared else 'no'}",
        *(f"⚠️ {esc(clip(w, 300))}" for w in response.warnings),
    ]
    key = f"{args.get('serviceName', '?')}/{args.get('serviceKey', '?')}"
    return lines, f"Submit {key} again: the next run starts from a blank state."


def success_message(
    title: str, result: WriteResult, args: Mapping[str, Any], confirmed_by: str
) -> Rendered:
    done, next_step = response_lines(result, args)
    lines = [*done, f"*Next:* {esc(next_step)}", f"Request id: {code(result.request_id)}"]
    if not result.audit_complete:
        lines.append("⚠️ The audit finish entry could not be stored; the start entry was.")
    heading = f"✅ {esc(clip(title, 150))}: done (confirmed by {mention(confirmed_by)})"
    text = fallback([f"✅ {title}: done", next_step, f"request {result.request_id}"])
    return Rendered(sections(heading, lines, "restate.outcome"), text)


def failure_message(title: str, error: OpsError, confirmed_by: str) -> Rendered:
    heading = f"❌ {esc(clip(title, 150))}: failed (confirmed by {mention(confirmed_by)})"
    text = fallback([f"❌ {title}: failed", *plain_error_lines(error)])
    return Rendered(sections(heading, error_lines(error), "restate.outcome"), text)
