"""The thread replies, the verify readout, the message edits, errors, audit lines and help."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.advice import advise, cleanup_advice
from core.audit import Actor, AttemptFinish, AttemptStart, AttemptView
from core.errors import InvalidInput, PermissionRequired, WorkflowRetryBlocked
from core.models import (
    Advice,
    CleanupItem,
    CleanupResponse,
    ForceRedeployResponse,
    RecoverResponse,
)
from core.operations import WriteResult
from core.plans.cleanup import plan_cleanup
from handlers.blocks.audit import audit_message
from handlers.blocks.errors import error_message, usage_message
from handlers.blocks.help import help_message
from handlers.blocks.offers import Offer
from handlers.blocks.outcome import failure_message, outcome_summary, success_message
from handlers.blocks.preview import preview_message
from handlers.blocks.progress import (
    after_action_message,
    finish_blocks,
    lock_blocks,
    status_line,
)
from handlers.blocks.verify import verify_message
from handlers.commands.parse import ALL_USAGE
from handlers.ids import HEADER_BLOCK, STATUS_BLOCK, offer_block_id
from tests.unit.reports import WF, deployment, failure, report, result, unreachable

RECOVER = Advice(
    kind="recover-stuck-workflow",
    route="recover-stuck-workflow",
    title=f"Recover {WF}/k1",
    preview="Kill and purge the terminal-failed invocations of k1 and clear its state.",
    args={"serviceName": WF, "serviceKey": "k1"},
    destructive=True,
)


def flat(message: object) -> str:
    """Every text of a rendered message, for assertions about content."""
    blocks = getattr(message, "blocks", [])
    return "\n".join(str(b.to_dict()) for b in blocks) + "\n" + str(getattr(message, "text", ""))


def test_cleanup_outcome_lists_every_deployment() -> None:
    """A cleanup's thread reply has one line per deployment: kept, deleted, skipped or failed."""
    response = CleanupResponse(
        report=[
            CleanupItem(id="dp_c", service_url="http://ddwf:9080/v1", action="kept"),
            CleanupItem(
                id="dp_a", service_url="http://old:9080", action="deleted", reason="drained"
            ),
            CleanupItem(id="dp_b", service_url="http://x:9080", action="failed", error="timeout"),
        ]
    )
    result_ = WriteResult("cleanup-stale-deployments", "req_w1", response)

    text = flat(success_message("Delete stale deployments", result_, {}, "UOPS"))

    assert "✅ Delete stale deployments: done (confirmed by <@UOPS>)" in text
    assert "`dp_c` `http://ddwf:9080/v1` kept" in text
    assert "`dp_a` `http://old:9080` deleted: drained, nothing pinned" in text
    assert "`dp_b` `http://x:9080` failed" in text
    assert "req_w1" in text


def test_cleanup_reasons_are_words() -> None:
    """A skipped deployment says why in words, never the core's token."""
    item = CleanupItem(
        id="dp_d",
        service_url="http://d:9080",
        action="skipped",
        reason="draining",
        drain_state="draining",
        pinned_invocations=3,
    )
    result_ = WriteResult("cleanup-stale-deployments", "req_w4", CleanupResponse(report=[item]))

    assert "skipped: 3 invocations still pinned" in flat(success_message("x", result_, {}, "U"))
    assert outcome_summary(result_) == "1 skipped (skipped: 3 invocations still pinned)"


def test_redeploy_outcome_names_the_new_deployment() -> None:
    """A redeploy's reply names the URL and the deployment id it got."""
    result_ = WriteResult("force-redeploy", "req_w2", ForceRedeployResponse(deployment_id="dp_new"))

    text = flat(success_message("Register", result_, {"serviceUrl": "http://ddwf:9080"}, "U"))

    assert "Registered `http://ddwf:9080` as deployment `dp_new`" in text


def test_recover_outcome_and_next_step() -> None:
    """A recovery's reply lists killed and purged invocations and says to submit again."""
    response = RecoverResponse(purged=["inv_1"], state_cleared=True, warnings=["promise left"])
    result_ = WriteResult("recover-stuck-workflow", "req_w3", response, audit_complete=False)

    text = flat(success_message(RECOVER.title, result_, RECOVER.args, "U"))

    assert "Purged: `inv_1`" in text
    assert "Workflow state cleared: yes" in text
    assert "⚠️ promise left" in text
    assert f"Submit {WF}/k1 again" in text
    assert "audit finish entry could not be stored" in text


def test_blocked_recovery_reply() -> None:
    """A blocked recovery names the code, reason, invocation ids, next step and request id."""
    error = WorkflowRetryBlocked("active-invocation", "Workflow retry is blocked", ["inv_9"])
    error.with_request_id("req_b")

    text = flat(failure_message(RECOVER.title, error, "UOPS"))

    assert f"❌ Recover {WF}/k1: failed (confirmed by <@UOPS>)" in text
    assert "RESTATE_WORKFLOW_RETRY_BLOCKED" in text
    assert "a run of this key is still active (`active-invocation`)" in text
    assert "`inv_9`" in text
    assert "Wait for the active invocation to finish" in text
    assert "req_b" in text


def test_verify_lists_changes_and_what_remains() -> None:
    """The verify readout shows the components, each change and the advice still given."""
    after = result(report(), [RECOVER])

    text = flat(verify_message(after, ["failure gone: Wf/k1 (inv_k1)"], action=RECOVER.title))

    assert f"Verify after Recover {WF}/k1" in text
    assert "• failure gone: Wf/k1 (inv_k1)" in text
    assert f"• Recover {WF}/k1" in text
    assert "🟠 Restate doctor: needs attention" not in text  # the readout after is healthy
    assert "✅ Restate doctor: all clear" in text


def test_verify_without_changes() -> None:
    """An unchanged readout says so, and so does one without a first readout."""
    assert "Nothing changed" in flat(verify_message(result(report()), [], action="x"))
    assert "No first readout" in flat(verify_message(result(report()), None, action="x"))


def test_lock_replaces_buttons_with_who_confirmed() -> None:
    """Locking removes the offers and says who confirmed; locking twice keeps one status line."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": HEADER_BLOCK, "text": {"type": "plain_text", "text": "🩺"}},
        {"type": "section", "block_id": offer_block_id(True, 0), "text": {}},
        {"type": "section", "block_id": offer_block_id(True, 1), "text": {}},
    ]

    locked = lock_blocks(lock_blocks(blocks, "Recover Wf/k1", "UOPS"), "Recover Wf/k1", "UOPS")

    assert [b["type"] for b in locked] == ["header", "section"]
    assert locked[-1]["block_id"] == STATUS_BLOCK
    assert locked[-1]["text"]["text"] == "⏳ *Recover Wf/k1* confirmed by <@UOPS>, running…"


def test_finish_marks_the_header() -> None:
    """Finishing sets the header to ✅ or ❌ and points to the thread."""
    locked = lock_blocks(
        [{"type": "header", "block_id": HEADER_BLOCK, "text": {"type": "plain_text", "text": "x"}}],
        "Recover Wf/k1",
        "UOPS",
    )

    done = finish_blocks(locked, "Recover Wf/k1", "UOPS", ok=True, threaded=True)
    failed = finish_blocks(locked, "Recover Wf/k1", "UOPS", ok=False, threaded=False)

    assert done[0]["text"]["text"] == "✅ Recover Wf/k1: done"
    assert "details in the thread" in done[-1]["text"]["text"]
    assert failed[0]["text"]["text"] == "❌ Recover Wf/k1: failed"
    assert "details in the messages below" in failed[-1]["text"]["text"]


def test_after_action_shows_what_ran_and_what_is_still_valid() -> None:
    """After a click the header is the fresh verdict, the status says who ran what with what
    result, and the fresh readout's write advice are the buttons."""
    fresh_report = report(failures=[failure("k2")])
    fresh = result(fresh_report, advise(fresh_report, live_service_url=None))
    offers = [Offer(a, "pid2") for a in fresh.advice if a.route]
    status = status_line(
        "Recover Wf/k1", "UOPS", ok=True, result="purged 1 failed run", threaded=True
    )

    blocks = after_action_message(fresh, offers, status=status, threaded=True).block_dicts()

    assert blocks[0]["text"]["text"] == "🟠 Restate doctor: needs attention"
    [line] = [b for b in blocks if b.get("block_id") == STATUS_BLOCK]
    assert line["text"]["text"] == (
        "✅ *Recover Wf/k1* by <@UOPS>: purged 1 failed run · details in the thread."
    )
    [button] = [b["accessory"] for b in blocks if "accessory" in b]
    assert (button["value"], button["text"]["text"]) == ("pid2", "Recover k2")
    assert "k1" not in str([b for b in blocks if "accessory" in b])


def test_permission_error_says_how_to_get_access() -> None:
    """A denial shows the seed's code, the allowlist hint and the request id."""
    error = PermissionRequired("U1 does not have system operate permission.")
    error.with_request_id("req_d")

    text = flat(error_message(error))

    assert "OFFCHAIN_USER_PERMISSION_REQUIRED" in text
    assert "OPERATOR_ALLOWLIST" in text
    assert "req_d" in text


def test_invalid_value_shows_the_usage() -> None:
    """An invalid value is shown with the rule and the usage of the command."""
    text = flat(error_message(InvalidInput("serviceKey", "must match ^x$"), "/restate recover …"))

    assert "serviceKey: must match ^x$" in text
    assert "/restate recover …" in text


def test_usage_message() -> None:
    """Malformed text gets what was wrong and the usage."""
    text = flat(usage_message("Unknown command 'x'.", ALL_USAGE))

    assert "Unknown command 'x'." in text
    assert "/restate audit [n]" in text


def test_audit_lines() -> None:
    """The audit reply has one monospaced line per attempt, newest first."""
    start = AttemptStart(
        attempt_id="att_1",
        request_id="req_a1",
        actor=Actor(id="UVIS", surface="slack", display_name="victor", role="none"),
        route="recover-stuck-workflow",
        args={},
        started_at="2026-05-09T10:07:19.250Z",
        context={"channel": "C1", "message_ts": "1.2"},
    )
    finish = AttemptFinish(
        attempt_id="att_1",
        request_id="req_a1",
        outcome="denied",
        finished_at="2026-05-09T10:07:19.300Z",
        error_code="OFFCHAIN_USER_PERMISSION_REQUIRED",
    )

    message = audit_message([AttemptView(start=start, finish=finish)], datetime.now(UTC))

    text = flat(message)
    assert "Latest 1 audited attempt" in text
    assert "UVIS (victor) [none, slack]  recover-stuck-workflow" in text
    assert "denied OFFCHAIN_USER_PERMISSION_REQUIRED  req_a1" in text


def test_empty_audit() -> None:
    """No attempts yet is said plainly."""
    assert "No audited attempts yet." in flat(audit_message([], datetime.now(UTC)))


def test_help_lists_every_command() -> None:
    """Help shows every subcommand's usage."""
    text = flat(help_message(ALL_USAGE))

    for word in ("doctor", "redeploy", "cleanup", "recover", "audit", "help"):
        assert f"/restate {word}" in text or f"/restate [{word}]" in text


def test_preview_has_one_confirm_button() -> None:
    """A typed write shows what will change and one button with the same preview."""
    doctor = result(report(failures=[failure("k1")]))

    message = preview_message(
        RECOVER, doctor, Offer(RECOVER, "pid"), requested_by="U", reason="INC-7", threaded=True
    )

    blocks = message.block_dicts()
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == offer_block_id(True, 0)
    [button] = actions["elements"]
    assert button["value"] == "pid"
    assert button["confirm"]["text"]["text"] == RECOVER.preview
    assert "INC-7" in flat(message)


def test_preview_when_restate_is_down_offers_nothing() -> None:
    """With connectivity blocked, the preview says fix connectivity first and has no button."""
    message = preview_message(
        RECOVER,
        result(unreachable()),
        None,
        requested_by="U",
        reason=None,
        threaded=True,
        blocked=True,
    )

    assert [b for b in message.block_dicts() if b["type"] == "actions"] == []
    assert "Fix connectivity first" in flat(message)


def test_force_drain_preview_offers_approve_to_a_second_operator() -> None:
    """Under the two-person rule the button is "Approve" and the dialog says who must click it."""
    keep = "http://ddwf:9080/"
    items = [deployment(1, "active", url=keep), deployment(2, "draining")]
    plan = plan_cleanup(items, keep, force_drain=True)
    advice = cleanup_advice(plan)
    held = advice.model_copy(update={"needs_approval": True})
    doctor = result(report())

    plain = preview_message(
        advice, doctor, Offer(advice, "p1"), requested_by="U1", reason=None, threaded=True
    )
    forced = preview_message(
        held, doctor, Offer(held, "apr_1"), requested_by="U1", reason=None, threaded=True
    )

    [plain_button] = [
        e for b in plain.block_dicts() if b["type"] == "actions" for e in b["elements"]
    ]
    [button] = [e for b in forced.block_dicts() if b["type"] == "actions" for e in b["elements"]]
    assert plain_button["text"]["text"] == "Delete 1 deployment"
    assert button["text"]["text"] == "Approve"
    assert button["confirm"]["confirm"]["text"] == "Approve and run"
    assert button["confirm"]["text"]["text"].startswith("A second operator must approve this")
    assert "a second operator must approve; <@U1> cannot" in flat(forced)
    assert "second operator" not in flat(plain)
