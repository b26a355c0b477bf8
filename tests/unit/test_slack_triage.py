"""The Slack triage surface's pure parts: filter words and the Block Kit it renders."""

from __future__ import annotations

import json

import pytest

from core.environments import Environment, EnvironmentSpec
from core.triage.models import ActionOffer, BulkReport, ItemOutcome, Preview, Readout, TriageItem
from handlers.blocks.environment import env_tag
from handlers.blocks.triage import (
    APPROVE_ACTION,
    RUN_ACTION,
    STOP_ACTION,
    preview_message,
    progress_message,
    readout_message,
    report_messages,
)
from handlers.blocks.triage_filter import ENVIRONMENT_BLOCK, filter_modal, modal_target
from handlers.commands.invocations import is_invocations, parse_invocations
from handlers.commands.parse import InvalidCommand
from handlers.ids import env_value, split_env_value

NOW = "2026-12-02T07:00:00.000Z"


def test_filter_words_become_the_routes_fields() -> None:
    """Bare statuses, name=value pairs, quoted text and a numeric limit."""
    args = parse_invocations(
        "invocations paused service=Checkout status=backing-off,suspended"
        ' error="conn &amp; refused"'
        " error-code=RT0011 older-than=2h key-prefix=tenant-7 limit=200"
    ).filter
    assert args == {
        "service": "Checkout",
        "status": ["paused", "backing-off", "suspended"],
        "errorContains": "conn & refused",
        "errorCode": "RT0011",
        "olderThan": "2h",
        "keyPrefix": "tenant-7",
        "limit": 200,
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("invocations colour=blue", "Unknown filter 'colour'."),
        ("invocations sleeping", "Unknown filter 'sleeping'."),
        ("invocations limit=many", "limit must be a number, not 'many'."),
        ('invocations error="open', "Cannot read the filter: No closing quotation."),
        ("invocations env= paused", "env= needs an environment's name (env=prod)."),
        ("invocations env=a env=b", "Name one environment, not 2."),
    ],
)
def test_bad_filter_words_say_what_is_wrong(text: str, problem: str) -> None:
    """Each refusal names the word; the usage comes with it."""
    with pytest.raises(InvalidCommand) as caught:
        parse_invocations(text)
    assert caught.value.problem == problem
    assert caught.value.usage.startswith("/restate invocations")


def test_only_the_invocations_subcommand_is_taken() -> None:
    """The matcher leaves every other /restate command to the general listener."""
    texts = ("invocations", "Invocations x", "env=prod invocations", "doctor", "env=prod", "")
    assert [is_invocations(t) for t in texts] == [True, True, True, False, False, False]


def _readout(offers: list[ActionOffer]) -> Readout:
    item = TriageItem(
        id="inv_1",
        service="Wf",
        key="k1",
        handler="run",
        status="paused",
        created_at="2026-12-02T06:00:00.000Z",
        error_code="RT0007",
        error="Exception('boom')",
    )
    return Readout(
        filter="status=paused",
        total=1500,
        selected=1000,
        capped=True,
        by_status={"paused": 1500},
        by_service={"Wf": 1500},
        items=[item],
        actions=offers,
        server_version="1.7.12",
    )


def test_readout_offers_buttons_only_for_offered_actions() -> None:
    """Kill and both resume variants are buttons carrying the filter; pause's reason is shown."""
    offers = [
        ActionOffer(action="kill", offered=True, applies_to=1000, destructive=True),
        ActionOffer(action="resume", offered=True, applies_to=1000),
        ActionOffer(
            action="pause", offered=False, reason="needs Restate 1.6+; the server runs 1.5"
        ),
        ActionOffer(action="purge", offered=False, reason="no selected invocation applies"),
    ]
    message = readout_message(_readout(offers), '{"status":["paused"]}', "U1", NOW)
    blocks = [b.to_dict() for b in message.blocks]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    text = json.dumps(blocks)

    assert [(b["text"]["text"], b["action_id"]) for b in buttons] == [
        ("Kill (1000)", "restate.triage.preview:kill:-"),
        ("Resume (1000)", "restate.triage.preview:resume:keep"),
        ("Resume on latest (1000)", "restate.triage.preview:resume:latest"),
    ]
    assert {b["value"] for b in buttons} == {'{"status":["paused"]}'}
    assert "capped at 1000 of 1500" in text
    assert "pause: needs Restate 1.6+" in text
    assert "1h ago" in text


def test_preview_needing_approval_has_approve_and_cancel() -> None:
    """Under the two-person rule the run button is Approve and run, behind a danger confirm."""
    preview = Preview(
        action_id="bulk_x",
        action="kill",
        filter="status=paused",
        count=3,
        total_matched=3,
        capped=False,
        needs_approval=True,
        requested_by="U1",
        expires_in_s=900,
        items=[TriageItem(id="inv_1", service="Wf", status="paused")],
        text="Kill 3 invocation(s) matching status=paused.",
    )
    blocks = [b.to_dict() for b in preview_message(preview, "U1").blocks]
    [run, cancel] = next(b for b in blocks if b["type"] == "actions")["elements"]

    assert (run["action_id"], run["value"], run["confirm"]["style"]) == (
        APPROVE_ACTION,
        "bulk_x",
        "danger",
    )
    assert (cancel["action_id"], cancel["value"]) == (STOP_ACTION, "bulk_x")
    assert RUN_ACTION != APPROVE_ACTION


def test_progress_replaces_the_buttons_and_keeps_a_stop_button_while_running() -> None:
    """Running: a status line with Stop; finished: the line alone."""
    before: list[dict[str, object]] = [
        {"type": "actions", "block_id": "restate.triage.actions", "elements": []}
    ]
    running = progress_message(before, "⏳ 3/10", "bulk_x")
    done = progress_message(running, "✅ done", None)

    assert [b["block_id"] for b in running] == ["restate.triage.status"]
    assert running[0]["accessory"]["action_id"] == STOP_ACTION  # type: ignore[index]
    assert "accessory" not in done[0]


def test_report_lists_failures_and_skips_first() -> None:
    """The thread report starts with what needs attention."""
    report = BulkReport(
        action_id="bulk_x",
        action="kill",
        state="finished",
        requested_by="U1",
        total=3,
        done=1,
        skipped=1,
        failed=1,
        items=[
            ItemOutcome(id="inv_a", outcome="done"),
            ItemOutcome(id="inv_b", outcome="skipped", detail="no longer exists (was paused)"),
            ItemOutcome(id="inv_c", outcome="failed", detail="answered 500"),
        ],
    )
    [text] = report_messages(report)
    assert text.splitlines() == [
        "❌ `inv_c` failed — answered 500",
        "⏭ `inv_b` skipped — no longer exists (was paused)",
        "✅ `inv_a` done",
    ]


def test_a_readout_the_bot_cannot_follow_up_has_no_buttons_and_says_why() -> None:
    """Outside the channel the readout is shown, with an invitation instead of buttons."""
    offers = [ActionOffer(action="kill", offered=True, applies_to=1, destructive=True)]
    message = readout_message(_readout(offers), "{}", "U1", NOW, threaded=False)
    blocks = [b.to_dict() for b in message.blocks]

    assert [b for b in blocks if b["type"] == "actions"] == []
    assert "Invite me to this channel" in json.dumps(blocks)


def _env(name: str, *, production: bool = False) -> Environment:
    # The renderers read the name and the production flag only.
    return Environment(
        spec=EnvironmentSpec(name, f"http://{name}:9070", production=production),
        admin=None,  # type: ignore[arg-type]
        ingress=None,
        operations=None,  # type: ignore[arg-type]
    )


def test_env_word_names_the_environment_and_alone_opens_the_form() -> None:
    """env=NAME is taken out of the filter; with no other word the form is opened for it."""
    named = parse_invocations("env=Staging invocations paused")
    alone = parse_invocations("invocations env=prod")
    bare = parse_invocations("invocations")

    assert (named.environment, named.filter, named.form) == (
        "staging",
        {"status": ["paused"]},
        False,
    )
    assert (alone.environment, alone.filter, alone.form) == ("prod", {}, True)
    assert (bare.environment, bare.form) == (None, True)


def test_env_inside_a_quoted_filter_value_is_part_of_the_value_not_an_environment() -> None:
    """``error="… env=prod …"`` searches for that text; it does not switch to prod."""
    quoted = parse_invocations('invocations error="failed with env=prod set" paused')
    both = parse_invocations('invocations env=staging error="env=prod"')

    assert (quoted.environment, quoted.filter) == (
        None,
        {"errorContains": "failed with env=prod set", "status": ["paused"]},
    )
    assert (both.environment, both.filter) == ("staging", {"errorContains": "env=prod"})
    assert is_invocations('error="x env=prod" invocations') is False


@pytest.mark.parametrize(
    ("env", "payload", "value"),
    [
        ("default", "bulk_x", "bulk_x"),
        ("default", '{"key":"a:b"}', '{"key":"a:b"}'),
        ("staging", "bulk_x", "staging:bulk_x"),
        ("prod", '{"key":"a:b"}', 'prod:{"key":"a:b"}'),
        ("staging", "C0INCIDENT", "staging:C0INCIDENT"),
    ],
)
def test_a_button_value_carries_its_environment(env: str, payload: str, value: str) -> None:
    """Bare for the environment default (values unchanged), else ``<env>:``; read back exactly."""
    assert env_value(env, payload) == value
    assert split_env_value(value) == (env, payload)


def test_a_prod_preview_names_prod_in_its_header_confirm_and_buttons() -> None:
    """With several environments the preview, its button and confirm say where; PROD stands out."""
    preview = Preview(
        action_id="bulk_x",
        action="purge",
        filter="status=completed",
        count=2,
        total_matched=2,
        capped=False,
        needs_approval=False,
        requested_by="U1",
        expires_in_s=900,
        items=[],
        text="Purge 2 invocation(s).",
    )
    message = preview_message(preview, "U1", env=env_tag(_env("prod", production=True), True))
    blocks = [b.to_dict() for b in message.blocks]
    [run, cancel] = next(b for b in blocks if b["type"] == "actions")["elements"]

    assert blocks[0]["text"]["text"] == "🔴 PROD · 🛠 Confirm: Purge 2"
    assert run["confirm"]["title"]["text"] == "🔴 PROD · Purge 2 invocation(s)?"
    assert run["text"]["text"] == "🔴 PROD · Purge 2"
    assert (run["value"], cancel["value"]) == ("prod:bulk_x", "prod:bulk_x")


def test_the_filter_form_offers_the_environments_and_reads_the_choice_back() -> None:
    """Several environments: a select, the command's one chosen; the choice beats the metadata."""
    prod, staging = _env("prod", production=True), _env("staging")
    view = filter_modal("C0INCIDENT", staging, [prod, staging]).to_dict()
    chosen = {ENVIRONMENT_BLOCK: {"value": {"selected_option": {"value": "prod"}}}}

    assert view["blocks"][0]["block_id"] == ENVIRONMENT_BLOCK
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "staging"
    assert view["private_metadata"] == "staging:C0INCIDENT"
    assert modal_target(view["private_metadata"], {}) == ("staging", "C0INCIDENT")
    assert modal_target(view["private_metadata"], chosen) == ("prod", "C0INCIDENT")
    assert filter_modal("C0INCIDENT").to_dict()["private_metadata"] == "C0INCIDENT"
