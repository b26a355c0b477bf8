"""The watch's Slack text: command parsing, the alert, its resolved note and the status."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.audit import Actor, AttemptFinish, AttemptStart, AttemptView
from core.models import Advice
from core.watch.alerts import AlertView, ResolvedView, last_action, relevant_advice
from core.watch.fixes import triage_fixes
from handlers.blocks.alert import alert_message, resolved_message, resolved_note
from handlers.blocks.alert_fixes import FIXES_BLOCK
from handlers.blocks.offers import Offer
from handlers.commands.parse import InvalidCommand, parse_command
from handlers.commands.watch_parse import SnoozeCommand, WatchCommand
from handlers.ids import OFFERS_BLOCK, offer_kind
from tests.unit.reports import WF, report

OPENED = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
RECOVER = Advice(
    kind="recover-stuck-workflow",
    route="recover-stuck-workflow",
    title=f"Recover {WF}/k1",
    preview="Kill and purge the terminal-failed invocations of k1 and clear its state.",
    args={"serviceName": WF, "serviceKey": "k1"},
    destructive=True,
)
OTHER = RECOVER.model_copy(update={"args": {"serviceName": "Other", "serviceKey": "k"}})


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("watch", WatchCommand("watch")),
        ("UNWATCH", WatchCommand("unwatch")),
        ("snooze paused 1h", SnoozeCommand("paused", timedelta(hours=1))),
        ("snooze all 1h30m", SnoozeCommand("all", timedelta(minutes=90))),
        ("snooze backing-off 2d", SnoozeCommand("backing-off", timedelta(days=2))),
    ],
)
def test_watch_commands_parse(text: str, command: object) -> None:
    """watch, unwatch and snooze with a rule and a compact duration."""
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("watch now", "Unexpected 'now'"),
        ("snooze paused", "needs a rule"),
        ("snooze sleepy 1h", "Unknown rule 'sleepy'"),
        ("snooze paused soon", "not a duration"),
        ("snooze paused 1h2x", "not a duration"),
    ],
)
def test_bad_watch_commands_say_what_is_wrong(text: str, problem: str) -> None:
    """A malformed watch command names the problem and shows its usage."""
    with pytest.raises(InvalidCommand) as caught:
        parse_command(text)
    assert problem in caught.value.problem
    assert caught.value.usage.startswith("/restate " + text.split()[0].lower())


def alert(advice: list[Advice]) -> AlertView:
    return AlertView(
        key=f"failures:{WF}",
        rule="failures",
        target=WF,
        count=2,
        summary=f"2 terminal failures of {WF} in 15 min",
        opened_at=OPENED,
        checked_at=OPENED + timedelta(minutes=1),
        advice=advice,
        report=report(),
    )


def test_an_alert_carries_the_doctor_buttons_for_its_target() -> None:
    """Only the advice about the alert's service becomes a button, in the threaded block."""
    advice = relevant_advice("failures", WF, [RECOVER, OTHER])
    message = alert_message(alert(advice), [Offer(advice[0], "pending-1")])
    blocks = [b.to_dict() for b in message.blocks]
    rows = [b for b in blocks if offer_kind(b.get("block_id")) is not None]
    assert advice == [RECOVER]
    assert [offer_kind(b["block_id"]) for b in rows] == [OFFERS_BLOCK]
    assert [b["accessory"]["value"] for b in rows] == ["pending-1"]
    assert "New terminal failures: IdentityRecoveryWorkflow" in json.dumps(blocks)


def view(route: str, actor: str, started: datetime, ts: str | None) -> AttemptView:
    start = AttemptStart(
        attempt_id=f"att_{route}_{actor}",
        request_id="req_1",
        actor=Actor(id=actor, surface="slack", role="operator"),
        route=route,
        args={},
        started_at=started.isoformat(),
        context={"channel": "C1", **({"message_ts": ts} if ts else {})},
    )
    finish = AttemptFinish(
        attempt_id=start.attempt_id,
        request_id="req_1",
        outcome="succeeded",
        finished_at=started.isoformat(),
    )
    return AttemptView(start=start, finish=finish)


def test_the_last_action_prefers_a_click_on_the_alert_itself() -> None:
    """Of the writes since the alert opened, one from its own message wins; doctor never counts."""
    views = [
        view("doctor", "U3", OPENED + timedelta(minutes=9), "1.1"),
        view("cleanup-stale-deployments", "U2", OPENED + timedelta(minutes=8), None),
        view("recover-stuck-workflow", "U1", OPENED + timedelta(minutes=5), "1.1"),
        view("force-redeploy", "U0", OPENED - timedelta(minutes=1), "1.1"),
    ]
    action = last_action(views, since=OPENED, channel="C1", ts="1.1")
    assert action is not None
    assert (action.name, action.actor_id) == ("recover", "U1")


def test_the_resolved_note_says_how_long_and_who_acted() -> None:
    """ "resolved after 14 min; last action: recover, by <@U1>"."""
    action = last_action(
        [view("recover-stuck-workflow", "U1", OPENED + timedelta(minutes=3), "1.1")],
        since=OPENED,
        channel="C1",
        ts="1.1",
    )
    resolved = ResolvedView(
        key=f"failures:{WF}",
        rule="failures",
        target=WF,
        summary="2 terminal failures",
        opened_at=OPENED,
        resolved_at=OPENED + timedelta(minutes=14),
        last_action=action,
    )
    assert (
        resolved_note(resolved).text == "✅ resolved after 14 min; last action: recover, by <@U1>."
    )
    edited = [b.to_dict() for b in resolved_message(resolved).blocks]
    assert [b for b in edited if "accessory" in b or b["type"] == "actions"] == []


def test_a_paused_alert_offers_triage_previews_of_exactly_its_runs() -> None:
    """Resume (pinned or latest) and kill, each a triage preview button carrying the filter."""
    paused = replace(
        alert([]),
        rule="paused",
        fixes=triage_fixes("paused", WF, backing_off=timedelta(minutes=10)),
    )
    message = alert_message(paused, [])
    blocks = [b.to_dict() for b in message.blocks]
    [row] = [b for b in blocks if b.get("block_id") == FIXES_BLOCK]
    flt = {"service": WF, "status": ["paused"]}
    assert [(e["action_id"], json.loads(e["value"])) for e in row["elements"]] == [
        ("restate.triage.preview:resume:keep", flt),
        ("restate.triage.preview:resume:latest", flt),
        ("restate.triage.preview:kill:-", flt),
    ]
    assert [e.get("style") for e in row["elements"]] == [None, None, "danger"]
    assert "nothing to do" not in (json.dumps(blocks) + message.text).lower()


def test_a_backing_off_alert_selects_only_the_runs_past_its_threshold() -> None:
    """Pause and kill the service's backing-off runs older than the rule's threshold."""
    fixes = triage_fixes("backing-off", WF, backing_off=timedelta(minutes=10))
    assert [(f.action, f.filter) for f in fixes] == [
        ("pause", {"service": WF, "status": ["backing-off"], "olderThan": "600s"}),
        ("kill", {"service": WF, "status": ["backing-off"], "olderThan": "600s"}),
    ]
    assert triage_fixes("failures", WF, backing_off=timedelta(minutes=10)) == []


def test_a_bulk_run_from_the_alert_thread_is_its_last_action() -> None:
    """A triage Run clicked on a preview in the alert's thread names the action and its count."""
    run = view("invocations-execute", "U1", OPENED + timedelta(minutes=4), "1.5")
    run = run.model_copy(
        update={
            "start": run.start.model_copy(
                update={
                    "args": {"action": "resume", "invocationIds": ["inv_1", "inv_2"]},
                    "context": {"channel": "C1", "message_ts": "1.5", "thread_ts": "1.1"},
                }
            )
        }
    )
    other = view("recover-stuck-workflow", "U2", OPENED + timedelta(minutes=6), None)
    action = last_action([other, run], since=OPENED, channel="C1", ts="1.1")
    assert action is not None
    assert (action.name, action.actor_id) == ("resume of 2 invocations", "U1")
