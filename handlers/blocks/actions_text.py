"""One short sentence per recommended action: what it does and why, with ids and links.

The advice (kind, args, plan) says what to do; the readout says what doctor saw about it. Ids go
in inline code so they can be copied exactly; a stuck run's sentence gives its invocation id and
the exact next step.
"""

from __future__ import annotations

from core.models import Advice, CleanupPlan, DoctorReport, FailureItem, StuckItem
from handlers.blocks.format import ago, clip, code, esc, ident
from handlers.blocks.links import Links

ERROR_CHARS = 90
MAX_NAMED = 3


def kill_command(invocation_id: str) -> str:
    """The Restate CLI command that kills a stuck invocation (recover refuses active runs)."""
    return f"restate invocations cancel --kill {invocation_id}"


def _failure(report: DoctorReport | None, name: str, key: str) -> FailureItem | None:
    if report is None:
        return None
    return next(
        (
            f
            for f in report.invocations.recent_failures
            if f.service_name == name and f.service_key == key
        ),
        None,
    )


def stuck_item(report: DoctorReport | None, invocation_id: str) -> StuckItem | None:
    if report is None:
        return None
    return next((s for s in report.invocations.stuck if s.id == invocation_id), None)


def _recover(advice: Advice, report: DoctorReport | None, links: Links) -> str:
    name, key = str(advice.args.get("serviceName")), str(advice.args.get("serviceKey"))
    target = f"{links.service(name)} / {ident(key, 70)}"
    failure = _failure(report, name, key)
    if failure is None or report is None:
        why = "its run terminal-failed"
    else:
        error = f": {code(failure.error_message, ERROR_CHARS)}" if failure.error_message else ""
        why = (
            f"its run failed {ago(failure.failed_at, report.checked_at)}{error} "
            f"(invocation {links.invocation(failure.id)})"
        )
    return (
        f"*Recover* {target}: {why}. Kills and purges the failed run and clears the key's "
        "state, so the next submission starts blank."
    )


def _deployments(plan: CleanupPlan, action: str, links: Links) -> str:
    steps = plan.doing("delete" if action == "delete" else "skip")
    named = ", ".join(links.deployment(s.deployment.id) for s in steps[:MAX_NAMED])
    more = f" and {len(steps) - MAX_NAMED} more" if len(steps) > MAX_NAMED else ""
    return named + more


def _cleanup(advice: Advice, links: Links) -> str:
    plan = advice.plan
    if not isinstance(plan, CleanupPlan):
        return f"*{esc(clip(advice.title, 120))}*: {esc(clip(advice.preview, 400))}"
    count = len(plan.doing("delete"))
    why = (
        "forceDrain: runs pinned to them will break"
        if plan.force_drain
        else "drained, nothing pinned to them"
    )
    skipped = plan.doing("skip")
    skip = f" Skips {_deployments(plan, 'skip', links)} (still in use)." if skipped else ""
    return (
        f"*Delete {count} stale deployment{'' if count == 1 else 's'}* "
        f"{_deployments(plan, 'delete', links)}: {why}. "
        f"Keeps {links.deployment(plan.keep.id)}.{skip}"
    )


def _in_use(advice: Advice, links: Links) -> str:
    plan = advice.plan
    if not isinstance(plan, CleanupPlan):
        return f"*{esc(clip(advice.title, 120))}*: {esc(clip(advice.preview, 400))}"
    return (
        f"*Stale deployments still in use*: {_deployments(plan, 'skip', links)} still have "
        f"pinned runs or are the latest for a service. Keeps {links.deployment(plan.keep.id)}; "
        "wait for the pinned runs to finish, then run doctor again."
    )


def _redeploy(advice: Advice) -> str:
    url = str(advice.args.get("serviceUrl", ""))
    return (
        f"*Register* {ident(url, 120)}: the live service URL is not registered with Restate. "
        "Old deployments are kept."
    )


def stuck_sentence(item: StuckItem, report: DoctorReport | None, links: Links) -> str:
    target = "/".join(p for p in (item.service_name, item.service_key, item.handler) if p)
    retries = f", {item.retry_count} retries" if item.retry_count else ""
    since = (
        f", last change {ago(item.modified_at, report.checked_at)}"
        if item.modified_at and report is not None
        else ""
    )
    detail = ": ".join(p for p in (item.error_code, item.error_message) if p)
    error = f" {code(detail, ERROR_CHARS)}" if detail else ""
    return (
        f"*{esc(item.status)}* {ident(target, 90)} ({links.invocation(item.id)}{retries}{since})"
        f"{error}. Recover refuses active runs. *Next:* fix the cause and resume it, or kill it: "
        f"{code(kill_command(item.id), 120)}"
    )


def _inspect(advice: Advice, report: DoctorReport | None, links: Links) -> str:
    invocation_id = advice.args.get("invocationId")
    if isinstance(invocation_id, str):
        item = stuck_item(report, invocation_id)
        if item is not None:
            return stuck_sentence(item, report, links)
        return (
            f"*{esc(clip(advice.title, 150))}* ({links.invocation(invocation_id)}). "
            f"*Next:* fix the cause and resume it, or kill it: "
            f"{code(kill_command(invocation_id), 120)}"
        )
    if isinstance(advice.plan, CleanupPlan):
        return _in_use(advice, links)
    return f"*{esc(clip(advice.title, 120))}*: {esc(clip(advice.preview, 400))}"


def _connectivity(advice: Advice, links: Links) -> str:
    runbook = f" See the {links.footer()[-1]}." if links.runbook_url else ""
    return f"🔌 *{esc(clip(advice.title, 120))}*: {esc(clip(advice.preview, 500))}{runbook}"


def action_sentence(advice: Advice, report: DoctorReport | None, links: Links) -> str:
    """What the action does and why, in one or two short sentences (mrkdwn)."""
    if advice.kind == "recover-stuck-workflow":
        return _recover(advice, report, links)
    if advice.kind == "cleanup-stale-deployments":
        return _cleanup(advice, links)
    if advice.kind == "force-redeploy":
        return _redeploy(advice)
    if advice.kind == "fix-connectivity":
        return _connectivity(advice, links)
    return _inspect(advice, report, links)
