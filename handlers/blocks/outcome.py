"""The outcome of a confirmed write, posted in the thread under the message that offered it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import OpsError, WorkflowRetryBlocked
from core.models import CleanupItem, CleanupResponse, ForceRedeployResponse
from core.operations import WriteResult
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.errors import BLOCKED_WORDS, error_lines, plain_error_lines
from handlers.blocks.format import Rendered, clip, code, esc, fallback, mention, sections

MAX_IDS = 20


def _ids(ids: list[str]) -> str:
    shown = ", ".join(code(i, 80) for i in ids[:MAX_IDS]) or "none"
    return shown + (f" …and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else "")


def _pinned(count: int | None) -> str:
    if count is None:
        return "its pinned invocations could not be counted"
    return f"{count} invocation{'' if count == 1 else 's'} still pinned"


def reason_words(item: CleanupItem) -> str:
    """Why cleanup did what it did with one deployment, in words (``3 invocations still
    pinned``), from the core's reason token."""
    words = {
        "matches-service-url": "matches the service URL to keep",
        "duplicate-service-url": "registered under the same URL as the kept one",
        "drained": "drained, nothing pinned",
        "force-drain": "forced (force-drain) while in use",
        "already-gone": "was already gone",
        "latest-for-service": "still the latest for " + (", ".join(item.latest_for) or "a service"),
        "draining": _pinned(item.pinned_invocations),
        "usage-unknown": "its drain state could not be read",
        "delete-failed": "Restate refused the delete",
        "not-in-preview": "was not in the preview you confirmed",
    }
    reason = item.reason or ""
    text = words.get(reason, reason.replace("-", " ") or item.drain_state)
    if item.changed:
        text += f"; {item.changed}"
    return text


def _cleanup_item(item: CleanupItem) -> str:
    error = f": {esc(clip(item.error, 200))}" if item.error else ""
    emoji = {"kept": "🟢", "deleted": "🗑️", "skipped": "⏭️"}.get(item.action, "❌")
    return (
        f"{emoji} {code(item.id, 60)} {code(item.service_url, 120)} "
        f"{item.action}: {esc(clip(reason_words(item), 200))}{error}"
    )


def outcome_summary(result: WriteResult) -> str:
    """What a write did, in a few words for the message's status line (mrkdwn)."""
    response = result.response
    if isinstance(response, ForceRedeployResponse):
        return f"registered as deployment {code(response.deployment_id, 80)}"
    if isinstance(response, CleanupResponse):
        counts = [
            f"{sum(1 for i in response.report if i.action == action)} {action}"
            for action in ("deleted", "kept", "skipped", "failed")
            if any(i.action == action for i in response.report)
        ]
        skipped = [i for i in response.report if i.action == "skipped"]
        why = f" (skipped: {esc(clip(reason_words(skipped[0]), 120))})" if skipped else ""
        return (", ".join(counts) or "nothing to do") + why
    runs = len(response.purged)
    cleared = "state cleared" if response.state_cleared else "state not cleared"
    return f"purged {runs} failed run{'' if runs == 1 else 's'}, {cleared}"


def blocked_words(error: OpsError) -> str:
    """A refusal in words: ``blocked: a run of this key is still active (inv_…)``."""
    if isinstance(error, WorkflowRetryBlocked):
        ids = ", ".join(code(i, 60) for i in error.invocation_ids[:3])
        return f"blocked: {BLOCKED_WORDS.get(error.reason, error.reason)}" + (
            f" ({ids})" if ids else ""
        )
    return f"failed: {code(error.code, 60)} {esc(clip(error.message, 160))}"


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
    title: str,
    result: WriteResult,
    args: Mapping[str, Any],
    confirmed_by: str,
    env: EnvTag = NO_TAG,
) -> Rendered:
    done, next_step = response_lines(result, args)
    lines = [*done, f"*Next:* {esc(next_step)}", f"Request id: {code(result.request_id)}"]
    if not result.audit_complete:
        lines.append("⚠️ The audit finish entry could not be stored; the start entry was.")
    heading = (
        f"{esc(env.prefix)}✅ {esc(clip(title, 150))}: done (confirmed by {mention(confirmed_by)})"
    )
    text = fallback([f"{env.prefix}✅ {title}: done", next_step, f"request {result.request_id}"])
    return Rendered(sections(heading, lines, "restate.outcome"), text)


def failure_message(
    title: str, error: OpsError, confirmed_by: str, env: EnvTag = NO_TAG
) -> Rendered:
    heading = (
        f"{esc(env.prefix)}❌ {esc(clip(title, 150))}: failed "
        f"(confirmed by {mention(confirmed_by)})"
    )
    text = fallback([f"{env.prefix}❌ {title}: failed", *plain_error_lines(error)])
    return Rendered(sections(heading, error_lines(error), "restate.outcome"), text)
