"""Triage's pure parts: the filter's SQL, the offers by server version, the re-check rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from core.errors import InvalidInput
from core.models import parse_request
from core.triage.actions import applicable, offers
from core.triage.execute import recheck
from core.triage.filter import TriageFilter, where_sql
from core.triage.models import ActionRequest, BulkAction, TriageItem
from core.triage.select import CurrentState

NOW = datetime(2026, 12, 2, 7, 0, 0, tzinfo=UTC)


def item(status: str, **changes: object) -> TriageItem:
    base = TriageItem(
        id=f"inv_{status}",
        service="Wf",
        key="k1",
        handler="run",
        service_type="workflow",
        status=status,
        created_at="2026-12-02T06:00:00.000Z",
        workflow_run=True,
    )
    return base.model_copy(update=changes)


def bulk(action: str, items: list[TriageItem]) -> BulkAction:
    return parse_request(
        BulkAction,
        {
            "id": "bulk_1",
            "action": action,
            "filter": "all invocations",
            "items": [i.model_dump(by_alias=True) for i in items],
            "totalMatched": len(items),
            "requestedBy": "alice",
            "requestedAt": "2026-12-02T07:00:00.000Z",
            "needsApproval": False,
            "requestId": "req_1",
        },
    )


def test_an_empty_filter_selects_everything() -> None:
    """No field set means no condition."""
    assert where_sql(TriageFilter(), NOW) == "TRUE"


def test_every_value_is_quoted_and_escaped() -> None:
    """Quotes in operator input are doubled inside one literal, never closing it."""
    flt = parse_request(
        TriageFilter,
        {"service": "Wf", "key": "o'brien", "status": ["paused", "backing-off", "paused"]},
    )
    assert where_sql(flt, NOW) == (
        "target_service_name = 'Wf' AND target_service_key = 'o''brien' "
        "AND status IN ('backing-off', 'paused')"
    )


def test_ages_become_timestamps_relative_to_now() -> None:
    """olderThan 2h is created before now minus two hours (milliseconds, UTC)."""
    flt = parse_request(TriageFilter, {"olderThan": "2h", "newerThan": "1d"})
    assert where_sql(flt, NOW) == (
        "created_at < TIMESTAMP '2026-12-02T05:00:00.000Z' "
        "AND created_at > TIMESTAMP '2026-12-01T07:00:00.000Z'"
    )


def test_error_text_is_matched_without_like_wildcards() -> None:
    """A % or _ in the search text is a plain character: strpos, not LIKE."""
    sql = where_sql(parse_request(TriageFilter, {"errorContains": "100%_x"}), NOW)
    assert "LIKE" not in sql
    assert "lower('100%_x')" in sql


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "a\nb"}, "key"),
        ({"errorCode": "RT0011' OR '1'='1"}, "errorCode"),
        ({"olderThan": "yesterday"}, "olderThan"),
        ({"status": ["sleeping"]}, "status.0"),
        ({"limit": 1001}, "limit"),
        ({"service": "x" * 201}, "service"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_filter_values_are_refused_with_the_field(body: dict[str, object], field: str) -> None:
    """Each rule names the field that broke it; nothing reaches SQL."""
    with pytest.raises(InvalidInput) as caught:
        parse_request(TriageFilter, body)
    assert caught.value.field == field


def test_an_older_server_is_not_offered_what_it_lacks() -> None:
    """On 1.5, pause is hidden with the version it needs; resume (1.5+) is offered."""
    by_name = {o.action: o for o in offers([item("paused")], (1, 5), frozenset({"kill"}))}
    assert by_name["pause"].reason == "needs Restate 1.6+; the server runs 1.5"
    assert by_name["resume"].offered is True
    assert (by_name["kill"].offered, by_name["kill"].needs_approval) == (True, True)
    assert by_name["purge"].reason == "no selected invocation is in a state it applies to"


def test_each_action_applies_to_its_own_part_of_a_mixed_selection() -> None:
    """kill: not completed; purge: completed; recover: failed workflow runs only."""
    items = [
        item("paused"),
        item("backing-off"),
        item("completed", id="inv_ok", completion_result="success"),
        item("completed", id="inv_bad", completion_result="failure"),
        item("completed", id="inv_shared", completion_result="failure", workflow_run=False),
    ]
    ids = {name: [i.id for i in applicable(name, items)] for name in ("kill", "purge", "recover")}
    assert ids == {
        "kill": ["inv_paused", "inv_backing-off"],
        "purge": ["inv_ok", "inv_bad", "inv_shared"],
        "recover": ["inv_bad"],
    }


def test_recheck_skips_what_changed_and_keeps_what_still_fits() -> None:
    """Gone, replaced by a new run, or in a status the action no longer fits: skipped."""
    paused = item("paused")
    action = bulk("kill", [paused])
    same = CurrentState(id=paused.id, status="running", created_at="2026-12-02T06:00:00Z")
    newer = CurrentState(id=paused.id, status="paused", created_at="2026-12-02T06:30:00Z")
    done = CurrentState(
        id=paused.id,
        status="completed",
        completion_result="failure",
        created_at="2026-12-02T06:00:00.000Z",
    )
    assert recheck(action, paused, same) is None
    raw = paused.model_copy(update={"created_at": "2026-12-02T06:00:00Z"})
    assert recheck(action, raw, done.model_copy(update={"status": "paused"})) is None
    assert recheck(action, paused, None) == "no longer exists (was paused)"
    assert recheck(action, paused, newer) == "a new run with the same id replaced the previewed one"
    assert recheck(action, paused, done) == "changed state: now completed (failure), was paused"


def test_deployment_is_only_for_resume() -> None:
    """A deployment choice on another action is refused in core's preview (model allows it)."""
    request = parse_request(ActionRequest, {"action": "resume", "deployment": "latest"})
    assert request.deployment == "latest"
    with pytest.raises(InvalidInput):
        parse_request(ActionRequest, {"action": "resume", "deployment": "dp_123"})


def clean_settings_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of ours from the shell, no .env from the working directory."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (8, {"kill", "purge", "recover"}, 600)),
        (
            {
                "TRIAGE_CONCURRENCY": "2",
                "TRIAGE_TWO_PERSON_ACTIONS": " purge , resume",
                "TRIAGE_APPROVAL_TTL_S": "60",
            },
            (2, {"purge", "resume"}, 60),
        ),
        ({"TRIAGE_TWO_PERSON_ACTIONS": ""}, (8, set(), 600)),
    ],
)
def test_triage_settings_default_and_parse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], expected: object
) -> None:
    """Defaults as documented; the two-person list is comma-separated, empty means none."""
    clean_settings_environment(monkeypatch, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (
        settings.triage_concurrency,
        set(settings.triage_two_person_actions),
        settings.triage_approval_ttl_s,
    ) == expected


def test_an_unknown_two_person_action_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A typo in the list stops start-up with the variable and the valid names."""
    clean_settings_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIAGE_TWO_PERSON_ACTIONS", "kill,nuke")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("TRIAGE_TWO_PERSON_ACTIONS: 'nuke' is not one of kill,")
