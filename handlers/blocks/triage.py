"""Block Kit for ``/restate invocations``: the readout, a preview, progress, the final report.

Pure renderers: core's values in, blocks out. A button is shown because core offers the action
(``ActionOffer.offered``), never because the renderer looks at statuses. Buttons carry the filter
(readout: a fresh preview is made on click) or the opaque id of the stored action (preview: the
run acts on exactly what was previewed).

Every button also carries its environment (``handlers.ids.env_value``: ``staging:<payload>``; bare
for the environment ``default``), so a click acts on the environment its message came from.
Headlines, button labels and confirm titles start with the environment's badge when the bot has
several, or it is production (``handlers.blocks.environment.EnvTag``).
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
)

from core.triage.models import ActionOffer, BulkReport, ItemOutcome, Preview, Readout, TriageItem
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import (
    BUTTON_TEXT,
    CONFIRM_TEXT,
    Rendered,
    ago,
    chunk_lines,
    clip,
    code,
    esc,
    fallback,
    mention,
    sections,
)
from handlers.ids import env_value

#: Block and action ids the triage listeners match.
PREVIEW_ACTION_PREFIX = "restate.triage.preview:"
RUN_ACTION = "restate.triage.run"
APPROVE_ACTION = "restate.triage.approve"
STOP_ACTION = "restate.triage.stop"
ACTIONS_BLOCK = "restate.triage.actions"
STATUS_BLOCK = "restate.triage.status"
#: Slack's limit on a button value.
MAX_VALUE = 2000
#: Per-item lines posted in the thread after a run (the rest: GET …/actions/{id}).
MAX_REPORT_LINES = 400

_VERBS = {
    "kill": "Kill",
    "cancel": "Cancel",
    "purge": "Purge",
    "pause": "Pause",
    "resume": "Resume",
    "recover": "Recover keys",
    "restart-as-new": "Restart as new",
}


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, 3000))])


def _item_line(item: TriageItem, now: str) -> str:
    target = "/".join(p for p in (item.service, item.key, item.handler) if p)
    error = f" · {esc(clip(item.error, 120))}" if item.error else ""
    code_part = f" {code(item.error_code, 20)}" if item.error_code else ""
    return (
        f"• {code(item.id, 60)} {code(target, 80)} *{esc(item.status)}* "
        f"{ago(item.created_at, now)}{code_part}{error}"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{esc(name)} {n}" for name, n in counts.items()) or "none"


def preview_action_id(action: str, deployment: str | None) -> str:
    """``restate.triage.preview:<action>:<deployment or ->``: unique within the actions block."""
    return f"{PREVIEW_ACTION_PREFIX}{action}:{deployment or '-'}"


def _buttons(offers: Sequence[ActionOffer], value: str, env: EnvTag) -> list[ButtonElement]:
    result = []
    for offer in offers:
        if not offer.offered:
            continue
        variants: list[tuple[str | None, str]] = [(None, "")]
        if offer.action == "resume":
            variants = [("keep", ""), ("latest", " on latest")]
        for deployment, suffix in variants:
            label = f"{_VERBS[offer.action]}{suffix} ({offer.applies_to})"
            result.append(
                ButtonElement(
                    text=PlainTextObject(text=env.title(label, BUTTON_TEXT), emoji=env.emoji),
                    action_id=preview_action_id(offer.action, deployment),
                    value=value,
                    style="danger" if offer.destructive else None,
                )
            )
    return result[:25]


def readout_message(
    readout: Readout,
    filter_json: str,
    requested_by: str,
    now: str,
    *,
    threaded: bool = True,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """Counts, the first invocations, and one button per offered action (a preview on click).

    ``threaded`` is False when the bot is not in the channel: the readout is still shown, but
    without buttons, since previews and progress need messages the bot can post and edit.
    ``env`` is the environment queried: named in the title, carried by every button.
    """
    first = f"first {len(readout.items)} of " if readout.total > len(readout.items) else ""
    title = env.title(f"🔎 {readout.total} invocation(s): {readout.filter}", 150)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title)),
        _context(
            f"Requested by {mention(requested_by)} · Restate {esc(readout.server_version or '?')}"
            + (f" · capped at {readout.selected} of {readout.total}" if readout.capped else "")
        ),
        *sections(
            "Counts",
            [
                f"by status: {_counts(readout.by_status)}",
                f"by service: {_counts(readout.by_service)}",
            ],
        ),
    ]
    if readout.items:
        blocks += sections(
            f"Invocations ({first}{readout.selected} selected)",
            [_item_line(item, now) for item in readout.items],
        )
    not_offered = [
        f"{offer.action}: {esc(offer.reason or '')}"
        for offer in readout.actions
        if not offer.offered and offer.reason and offer.reason.startswith("needs")
    ]
    value = env_value(env.name, filter_json)
    elements = _buttons(readout.actions, value, env) if len(value) <= MAX_VALUE else []
    if elements and threaded:
        blocks.append(ActionsBlock(elements=elements, block_id=ACTIONS_BLOCK))
    elif elements:
        blocks.append(
            _context(
                ":information_source: Invite me to this channel (`/invite`) to act on these "
                "invocations from here: previews, progress and reports are my own messages."
            )
        )
    if not_offered:
        blocks.append(_context("Not offered by this server: " + "; ".join(not_offered)))
    text = fallback(
        [
            title,
            f"by status: {_counts(readout.by_status)}",
            *(f"{i.id} {i.service}/{i.key or ''} {i.status}" for i in readout.items),
        ]
    )
    return Rendered(blocks[:50], text)


def preview_message(
    preview: Preview,
    requested_by: str,
    *,
    env: EnvTag = NO_TAG,
) -> Rendered:
    """What will run on exactly which invocations, with Run (or Approve) and Cancel.

    Both buttons carry ``env`` with the action id: only that environment's store has the action.
    """
    verb = _VERBS[preview.action]
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=env.title(f"🛠 Confirm: {verb} {preview.count}", 150))
        ),
        _context(
            f"Requested by {mention(requested_by)} · action {code(preview.action_id)} · "
            f"expires in {preview.expires_in_s // 60} min"
        ),
        *sections("What will change", [esc(preview.text)]),
    ]
    ids = [f"• {code(item.id, 60)} {esc(item.status)}" for item in preview.items]
    if ids:
        blocks += sections(f"First {len(ids)} of {preview.count}", ids)
    confirm = ConfirmObject(
        title=PlainTextObject(
            text=env.title(f"{verb} {preview.count} invocation(s)?", 100), emoji=env.emoji
        ),
        text=clip(preview.text, CONFIRM_TEXT),
        confirm="Approve and run" if preview.needs_approval else "Run",
        deny="Back",
        style="danger",
    )
    value = env_value(env.name, preview.action_id)
    run = ButtonElement(
        text=PlainTextObject(
            text=env.title(
                "Approve and run" if preview.needs_approval else f"{verb} {preview.count}",
                BUTTON_TEXT,
            ),
            emoji=env.emoji,
        ),
        action_id=APPROVE_ACTION if preview.needs_approval else RUN_ACTION,
        value=value,
        style="danger",
        confirm=confirm,
    )
    cancel = ButtonElement(text="Cancel", action_id=STOP_ACTION, value=value)
    blocks.append(ActionsBlock(elements=[run, cancel], block_id=ACTIONS_BLOCK))
    if preview.needs_approval:
        blocks.append(_context("Two-person rule: a second operator (not the requester) approves."))
    return Rendered(blocks, fallback([f"{env.prefix}Confirm: {preview.text}"]))


def progress_message(
    preview_blocks: Sequence[dict[str, object]], line: str, stop_value: str | None
) -> list[dict[str, object]]:
    """The preview's blocks with its buttons replaced by a status line (and Stop while running).

    ``stop_value``: the clicked button's value (environment and action id), None once finished.
    """
    kept = [b for b in preview_blocks if b.get("block_id") not in (ACTIONS_BLOCK, STATUS_BLOCK)]
    status: dict[str, object] = {
        "type": "section",
        "block_id": STATUS_BLOCK,
        "text": {"type": "mrkdwn", "text": clip(line, 3000)},
    }
    if stop_value is not None:
        stop = ButtonElement(text="Stop", action_id=STOP_ACTION, value=stop_value, style="danger")
        status["accessory"] = stop.to_dict()
    return [*kept, status]


def running_line(report_done: int, skipped: int, failed: int, total: int, by: str) -> str:
    return (
        f"⏳ Running (started by {mention(by)}): {report_done + skipped + failed}/{total} — "
        f"{report_done} done, {skipped} skipped, {failed} failed"
    )


def final_line(report: BulkReport) -> str:
    mark = "✅" if not report.failed and not report.stopped_by else "⚠️"
    stopped = f"; stopped by {mention(report.stopped_by)}" if report.stopped_by else ""
    approved = f", approved by {mention(report.approved_by)}" if report.approved_by else ""
    return (
        f"{mark} {_VERBS[report.action]}: {report.done} done, {report.skipped} skipped, "
        f"{report.failed} failed of {report.total} (run by {mention(report.executed_by or '?')}"
        f"{approved}){stopped}. Per-item report in the thread."
    )


def report_messages(report: BulkReport, env: EnvTag = NO_TAG) -> list[str]:
    """The per-item report as thread texts: failures and skips first, each with its reason."""
    order = {"failed": 0, "skipped": 1, "done": 2}
    items = sorted(report.items, key=lambda o: order[o.outcome])
    lines = [_outcome_line(o) for o in items[:MAX_REPORT_LINES]]
    if len(items) > MAX_REPORT_LINES:
        lines.append(
            f"… {len(items) - MAX_REPORT_LINES} more: GET /api/v2/admin/operator/restate/"
            f"invocations/actions/{report.action_id}"
            + (f" (X-Restate-Environment: {env.name})" if env.badge else "")
        )
    return chunk_lines(lines)


def _outcome_line(outcome: ItemOutcome) -> str:
    mark = {"done": "✅", "skipped": "⏭", "failed": "❌"}[outcome.outcome]
    detail = f" — {esc(clip(outcome.detail, 200))}" if outcome.detail else ""
    return f"{mark} {code(outcome.id, 60)} {outcome.outcome}{detail}"
