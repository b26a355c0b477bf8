"""The doctor message: verdict first, one row per action, details in the thread, within limits."""

from __future__ import annotations

from typing import Any

import pytest

from core.advice import advise
from core.models import Advice, FailureItem, ServiceItem
from handlers.blocks.doctor import details_message, doctor_message
from handlers.blocks.format import (
    BUTTON_TEXT,
    CONFIRM_TEXT,
    CONFIRM_TITLE,
    FALLBACK_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    SECTION_TEXT,
    esc,
    shorten_middle,
)
from handlers.blocks.links import Links, ui_url_for
from handlers.blocks.modals import (
    FormState,
    cleanup_choices,
    fit_choices,
    form_view,
    recover_choices,
    submitted,
)
from handlers.blocks.offers import Offer
from handlers.blocks.progress import after_action_message
from handlers.blocks.verdict import plain_trouble_line
from handlers.ids import (
    DETAILS_ACTION,
    OFFERS_BLOCK,
    OFFERS_BLOCK_UNTHREADED,
    RUN_ACTION,
    offer_kind,
)
from tests.unit.reports import (
    WF,
    deployment,
    failure,
    report,
    result,
    stuck_item,
    unreachable,
    worst_case,
)

LIVE = "http://ddwf-3.svc:9080/v1/" + "p" * 90
LINKS = Links(
    ui_url=ui_url_for("http://restate.internal:9070"),
    runbook_url="https://wiki.example.com/restate",
    admin_url="http://restate.internal:9070",
)


def offers_for(advice: list[Advice]) -> list[Offer]:
    return [Offer(a, f"pending{n:02d}" * 2) for n, a in enumerate(advice) if a.route]


def render(advice: list[Advice], **kwargs: Any) -> list[dict[str, Any]]:
    doctor = kwargs.pop("doctor", None) or report(failures=[failure("k1")])
    message = doctor_message(
        result(doctor, advice), offers_for(advice), requested_by="UOPS", **kwargs
    )
    return message.block_dicts()


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button: in actions blocks and as section accessories."""
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [
        b["accessory"] for b in blocks if b.get("accessory", {}).get("type") == "button"
    ]


def rows(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if offer_kind(b.get("block_id")) is not None]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = [b["text"]["text"] for b in blocks if b["type"] in ("section", "header")]
    return found + [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def test_headline_is_the_verdict_with_its_severity() -> None:
    """Failed and stuck work is 🟠 with what is wrong in one line; healthy is ✅; down is 🔴."""
    trouble = report(failures=[failure("k1"), failure("k2")], stuck=[stuck_item("k3")])

    blocks = render(advise(trouble, live_service_url=None), doctor=trouble, threaded=True)
    healthy = render([], doctor=report(), threaded=True)
    down = render(advise(unreachable(), live_service_url=None), doctor=unreachable(), threaded=True)

    assert blocks[0]["text"]["text"] == "🟠 Restate doctor: needs attention"
    assert blocks[1]["elements"][0]["text"] == (
        "2 workflow keys terminal-failed · 1 run backing-off, last change 1m ago"
    )
    assert healthy[0]["text"]["text"] == "✅ Restate doctor: all clear"
    assert down[0]["text"]["text"] == "🔴 Restate doctor: Restate unreachable"
    assert "fix connectivity first" in down[1]["elements"][0]["text"]


def test_one_row_per_action_with_its_button() -> None:
    """Each advice is one section; writes carry their button, a stuck run a Details button."""
    doctor = report(failures=[failure("k1")], stuck=[stuck_item("k3")])
    advice = advise(doctor, live_service_url=None)

    blocks = render(advice, doctor=doctor, threaded=True)

    recover, inspect = rows(blocks)
    assert recover["accessory"]["style"] == "danger"
    assert recover["accessory"]["confirm"]["style"] == "danger"
    assert RUN_ACTION.match(recover["accessory"]["action_id"])
    assert recover["accessory"]["value"] == "pending00pending00"
    assert recover["text"]["text"].startswith("*Recover*")
    assert DETAILS_ACTION.match(inspect["accessory"]["action_id"])
    assert inspect["accessory"]["value"] == "inv_stuck_k3"
    assert "style" not in inspect["accessory"]
    assert [b["type"] for b in blocks].index("section") < len(blocks)  # rows before any detail
    assert "Deployments (" not in "\n".join(texts(blocks))


def test_redeploy_button_is_primary() -> None:
    """A registration changes nothing destructive: its button is primary."""
    doctor = report(deployments=[deployment(1, "active")])
    advice = advise(doctor, live_service_url="http://ddwf-live:9080/v1")

    [button] = buttons(render(advice, doctor=doctor, threaded=True))

    assert (button["style"], button["text"]["text"]) == ("primary", "Register")


def test_labels_keep_the_end_of_long_ids() -> None:
    """A long key is shortened in the middle in the label; its distinct end stays."""
    key = "invitation_" + "x" * 60 + "_tail42"
    doctor = report(failures=[failure(key)])

    [button] = buttons(render(advise(doctor, live_service_url=None), doctor=doctor, threaded=True))

    label = button["text"]["text"]
    assert label.startswith("Recover invit")
    assert label.endswith("_tail42")
    assert "…" in label
    assert len(label) <= BUTTON_TEXT
    assert shorten_middle("abcdefghij", 5) == "ab…ij"


def test_stuck_run_gives_its_id_and_the_exact_next_step() -> None:
    """A stuck run's row names its invocation id, links it, and gives the kill command."""
    doctor = report(stuck=[stuck_item("k3")])

    [row] = rows(
        render(advise(doctor, live_service_url=None), doctor=doctor, threaded=True, links=LINKS)
    )

    text = row["text"]["text"]
    assert "<http://restate.internal:9070/ui/invocations/inv_stuck_k3|`inv_stuck_k3`>" in text
    assert "`restate invocations cancel --kill inv_stuck_k3`" in text
    assert "7 retries" in text


def test_details_go_in_the_thread_with_links_and_ids() -> None:
    """The thread reply has components, deployments, services and failures, ids linked."""
    doctor = report(failures=[failure("k1")], stuck=[stuck_item("k3")])

    details = details_message(result(doctor, advise(doctor, live_service_url=None)), LINKS)

    joined = "\n".join(texts(details.block_dicts()))
    ui = "http://restate.internal:9070/ui/"
    assert "✅ *admin* ok" in joined
    assert f"<{ui}overview?deployment=dp_01|`dp_01`>" in joined
    assert f"<{ui}overview?service={WF}|`{WF}`>" in joined
    assert f"<{ui}invocations/inv_k1|`inv_k1`>" in joined  # a failure's id
    assert f"<{ui}invocations/inv_stuck_k3|`inv_stuck_k3`>" in joined
    assert "Recommended, in full" in joined


def test_footer_links_the_restate_ui_and_the_runbook() -> None:
    """The context line links the Restate UI and, when configured, the runbook."""
    footer = "\n".join(texts(render([], threaded=True, links=LINKS)))

    assert "<http://restate.internal:9070/ui/|Restate UI>" in footer
    assert "<https://wiki.example.com/restate|Runbook>" in footer
    assert "Runbook" not in "\n".join(texts(render([], threaded=True)))


def test_worst_case_stays_within_slack_limits() -> None:
    """50 deployments, 20 long failures, 20 services and 10 stuck fit every Slack limit."""
    doctor = worst_case()
    advice = advise(doctor, live_service_url=LIVE)
    message = doctor_message(
        result(doctor, advice), offers_for(advice), requested_by="UOPS", threaded=True, links=LINKS
    )
    details = details_message(result(doctor, advice), LINKS)
    status = "✅ *Recover …* by <@UOPS>: " + "x" * 2000
    after = after_action_message(
        result(doctor, advice), offers_for(advice), status=status, threaded=True, links=LINKS
    )

    for rendered in (message, details, after):
        blocks = rendered.block_dicts()  # to_dict() validates every block
        assert len(blocks) <= MAX_BLOCKS
        assert all(len(t) <= SECTION_TEXT for t in texts(blocks))
        assert len(rendered.text) <= FALLBACK_TEXT
        for button in buttons(blocks):
            assert len(button["text"]["text"]) <= BUTTON_TEXT
            assert len(button["value"]) <= 2000
            if "confirm" in button:
                assert len(button["confirm"]["title"]["text"]) <= CONFIRM_TITLE
                assert len(button["confirm"]["text"]["text"]) <= CONFIRM_TEXT
    blocks = message.block_dicts()
    assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT
    assert len(buttons(blocks)) >= 5
    joined = "\n".join(texts(details.block_dicts()))
    assert "Recent failures (20)" in joined
    assert "Deployments (50)" in joined
    assert joined.count("inv_invitation_") >= 20  # every failure has its own line and id


def test_restate_down_says_fix_connectivity_first() -> None:
    """When the admin API is unreachable, the message says so and offers no write."""
    doctor = unreachable()
    advice = advise(doctor, live_service_url="http://ddwf:9080/v1")

    blocks = render(advice, doctor=doctor, threaded=True)

    assert buttons(blocks) == []
    assert "Fix connectivity first" in "\n".join(texts(blocks))


def test_unthreaded_message_says_how_to_invite_the_bot() -> None:
    """Posted through the response URL, the rows are marked so and the invite hint is shown."""
    advice = advise(report(failures=[failure("k1")]), live_service_url=None)

    blocks = render(advice, threaded=False, bot_user_id="UBOT")

    assert [offer_kind(b["block_id"]) for b in rows(blocks)] == [OFFERS_BLOCK_UNTHREADED]
    assert "`/invite` <@UBOT>" in str(blocks[-1])


def test_threaded_offers_block_id() -> None:
    """Posted by the bot itself, the rows are marked for threaded follow-ups."""
    advice = advise(report(failures=[failure("k1")]), live_service_url=None)

    blocks = render(advice, threaded=True)

    assert [offer_kind(b["block_id"]) for b in rows(blocks)] == [OFFERS_BLOCK]


def test_server_text_cannot_ping_or_format() -> None:
    """Restate text with mentions or mrkdwn control characters is shown inert."""
    hostile = FailureItem(
        id="inv_x", service_name=WF, service_key="k", error_message="<!channel> *look* _at_ ~me~"
    )
    doctor = report(failures=[hostile])

    joined = "\n".join(texts(details_message(result(doctor)).block_dicts()))

    assert "<!channel>" not in joined
    assert "&lt;!channel&gt;" in joined
    assert esc("*a* _b_ ~c~ `d`") == "\u2217a\u2217 \u02cdb\u02cd \u223cc\u223c \u02cbd\u02cb"
    assert esc("inv_1ab snake_case") == "inv_1ab snake_case"  # inside a word nothing formats


def test_fallback_text_summarises_the_readout() -> None:
    """The plain-text fallback has the verdict, what is wrong and the recommendations."""
    doctor = report(failures=[failure("k1")])
    advice = advise(doctor, live_service_url=None)

    text = doctor_message(result(doctor, advice), [], requested_by="U", threaded=True).text

    assert text.startswith("🟠 Restate doctor: needs attention\n1 workflow key terminal-failed")
    assert f"Recommended: Recover {WF}/k1" in text
    assert "*" not in text


def test_buttons_unavailable_note() -> None:
    """When the offers could not be stored, the readout says so and shows no write button."""
    doctor = report(failures=[failure("k1")])
    advice = advise(doctor, live_service_url=None)

    message = doctor_message(
        result(doctor, advice), [], requested_by="U", threaded=True, offers_error="redis down"
    )

    blocks = message.block_dicts()
    assert buttons(blocks) == []
    assert "Buttons are unavailable (redis down)" in str(blocks)


def test_forms_offer_the_readouts_choices_within_slack_limits() -> None:
    """The recover form lists failed keys (values are indices), the cleanup form the URLs."""
    doctor = worst_case()
    recover = fit_choices("C1", recover_choices(doctor))
    cleanup = fit_choices("C1", cleanup_choices(doctor))

    views = [form_view("recover", recover, doctor), form_view("cleanup", cleanup, doctor)]
    dicts = [view.to_dict() for view in views]  # validates every block and limit

    assert len(recover.choices) == 20
    assert [len(d["private_metadata"]) <= 3000 for d in dicts] == [True, True]
    first = next(b for b in dicts[0]["blocks"] if b.get("block_id") == "restate.form.choice")
    assert all(len(o["text"]["text"]) <= 75 for o in first["element"]["options"])
    assert first["element"]["options"][0]["value"] == "0"
    assert FormState.load(dicts[1]["private_metadata"]).choices[0] == [
        doctor.deployments.items[0].service_url
    ]


def test_form_submission_maps_back_to_the_write() -> None:
    """A submitted choice becomes the write's arguments; a missing one names its field."""
    state = FormState("C1", [[WF, "k1"], [WF, "k2"]])
    view = {
        "private_metadata": state.dump(),
        "state": {
            "values": {"restate.form.choice": {"choice": {"selected_option": {"value": "1"}}}}
        },
    }

    form = submitted("recover", view)

    assert (form.channel, form.args) == ("C1", {"serviceName": WF, "serviceKey": "k2"})
    with pytest.raises(ValueError, match=r"restate\.form\.choice"):
        submitted("recover", {"private_metadata": state.dump(), "state": {"values": {}}})


def test_what_is_wrong_counts_workflow_keys_apart_from_other_failures() -> None:
    """Two failures of one workflow key are one key; a plain service's failure is another run."""
    other = FailureItem(id="inv_s", service_name="Mailer", handler="send", error_message="x")
    doctor = report(
        failures=[failure("k1"), failure("k1"), other],
        services=[
            ServiceItem(name=WF, revision=1, type="Workflow"),
            ServiceItem(name="Mailer", revision=1, type="Service"),
        ],
    )

    assert plain_trouble_line(doctor) == "1 workflow key terminal-failed · 1 other run failed"


def test_action_rows_show_server_text_inert() -> None:
    """An error with a mention and mrkdwn markers cannot ping or format in an action row."""
    doctor = report(failures=[failure("k1", error="<!here> *urgent* ~gone~ `x`")])

    [row] = rows(render(advise(doctor, live_service_url=None), doctor=doctor, threaded=True))

    text = row["text"]["text"]
    assert "<!here>" not in text
    # one inline code span (nothing formats inside it), its own backticks neutralised
    assert "`&lt;!here&gt; *urgent* ~gone~ 'x'`" in text
