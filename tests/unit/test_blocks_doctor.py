"""The doctor message: readable and within Slack's limits, buttons only for write advice."""

from __future__ import annotations

from typing import Any

from core.advice import advise
from core.models import Advice, FailureItem
from handlers.blocks.doctor import doctor_message
from handlers.blocks.format import (
    BUTTON_TEXT,
    CONFIRM_TEXT,
    CONFIRM_TITLE,
    FALLBACK_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    SECTION_TEXT,
)
from handlers.blocks.offers import Offer
from handlers.ids import OFFERS_BLOCK, OFFERS_BLOCK_UNTHREADED, RUN_ACTION
from tests.unit.reports import WF, deployment, failure, report, result, unreachable, worst_case

LIVE = "http://ddwf-3.svc:9080/v1/" + "p" * 90


def offers_for(advice: list[Advice]) -> list[Offer]:
    return [Offer(a, f"pending{n:02d}" * 2) for n, a in enumerate(advice) if a.route]


def render(advice: list[Advice], **kwargs: Any) -> list[dict[str, Any]]:
    doctor = kwargs.pop("doctor", None) or report(failures=[failure("k1")])
    message = doctor_message(
        result(doctor, advice), offers_for(advice), requested_by="UOPS", **kwargs
    )
    return message.block_dicts()


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] in ("section", "header")]


def test_worst_case_stays_within_slack_limits() -> None:
    """20 failures, 10 deployments, 20 services and 10 stuck fit every Slack limit."""
    doctor = worst_case()
    advice = advise(doctor, live_service_url=LIVE)
    message = doctor_message(
        result(doctor, advice), offers_for(advice), requested_by="UOPS", threaded=True
    )

    blocks = message.block_dicts()  # to_dict() validates every block

    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_TEXT for t in texts(blocks))
    assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT
    assert len(message.text) <= FALLBACK_TEXT
    for button in buttons(blocks):
        assert len(button["text"]["text"]) <= BUTTON_TEXT
        assert len(button["confirm"]["title"]["text"]) <= CONFIRM_TITLE
        assert len(button["confirm"]["text"]["text"]) <= CONFIRM_TEXT
        assert len(button["value"]) <= 2000
    joined = "\n".join(texts(blocks))
    assert "Recent failures (20)" in joined
    assert "Deployments (10)" in joined
    assert joined.count("invitation_") >= 20  # every failure has its own line


def test_buttons_only_for_write_advice() -> None:
    """Read-only advice is text; each write advice is one button carrying only its pending id."""
    advice = [
        Advice(kind="inspect", title="Inspect backing-off Wf/k", preview="still active"),
        Advice(
            kind="recover-stuck-workflow",
            route="recover-stuck-workflow",
            title=f"Recover {WF}/k1",
            preview="Kill and purge …",
            args={"serviceName": WF, "serviceKey": "k1"},
            destructive=True,
        ),
        Advice(
            kind="force-redeploy",
            route="force-redeploy",
            title="Register the live workflow service",
            preview="Register http://ddwf:9080/v1",
            args={"serviceUrl": "http://ddwf:9080/v1", "force": True},
        ),
    ]

    blocks = render(advice, threaded=True)

    recover, redeploy = buttons(blocks)
    assert (recover["style"], recover["confirm"]["style"]) == ("danger", "danger")
    assert (redeploy["style"], redeploy["confirm"]["style"]) == ("primary", "primary")
    assert recover["value"] == "pending01pending01"
    assert RUN_ACTION.match(recover["action_id"])
    assert recover["action_id"] != redeploy["action_id"]
    assert "Inspect backing-off Wf/k" in "\n".join(texts(blocks))


def test_confirm_dialog_states_the_exact_change() -> None:
    """The confirm dialog of a cleanup names what is deleted and what is kept."""
    doctor = report(deployments=[deployment(1), deployment(2), deployment(3, "active")])
    advice = advise(doctor, live_service_url="http://ddwf-3:9080/v1")

    [button] = buttons(render(advice, doctor=doctor, threaded=True))

    assert button["confirm"]["text"]["text"] == (
        "Delete 2 stale deployments: dp_01 (drained), dp_02 (drained). "
        "Keep dp_03 (http://ddwf-3:9080/v1)."
    )
    assert button["confirm"]["confirm"]["text"] == "Delete"


def test_restate_down_says_fix_connectivity_first() -> None:
    """When the admin API is unreachable, the message says so and offers no write."""
    doctor = unreachable()
    advice = advise(doctor, live_service_url="http://ddwf:9080/v1")

    blocks = render(advice, doctor=doctor, threaded=True)

    assert buttons(blocks) == []
    assert "Fix connectivity first" in "\n".join(texts(blocks))
    assert blocks[0]["text"]["text"].startswith("🩺 Restate doctor: 🔴 unreachable")


def test_unthreaded_message_says_how_to_invite_the_bot() -> None:
    """Posted through the response URL, the offers are marked so and the invite hint is shown."""
    advice = advise(report(failures=[failure("k1")]), live_service_url=None)

    blocks = render(advice, threaded=False, bot_user_id="UBOT")

    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [OFFERS_BLOCK_UNTHREADED]
    assert "`/invite` <@UBOT>" in str(blocks[-1])


def test_threaded_offers_block_id() -> None:
    """Posted by the bot itself, the offers are marked for threaded follow-ups."""
    advice = advise(report(failures=[failure("k1")]), live_service_url=None)

    blocks = render(advice, threaded=True)

    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [OFFERS_BLOCK]


def test_user_text_cannot_ping_the_channel() -> None:
    """Restate error text with Slack control sequences is escaped, never a mention."""
    hostile = FailureItem(
        id="inv_x", service_name=WF, service_key="k", error_message="<!channel> look <@U1>"
    )

    blocks = render([], doctor=report(failures=[hostile]), threaded=True)

    joined = "\n".join(texts(blocks))
    assert "<!channel>" not in joined
    assert "&lt;!channel&gt;" in joined


def test_fallback_text_summarises_the_readout() -> None:
    """The plain-text fallback has the headline, every component and the recommendations."""
    doctor = report(failures=[failure("k1")])
    advice = advise(doctor, live_service_url=None)

    text = doctor_message(result(doctor, advice), [], requested_by="U", threaded=True).text

    assert text.startswith("🩺 Restate doctor: ✅ all components ok · 1 recent failure")
    assert "✅ admin ok · 9 ms · v1.7.12" in text
    assert f"Recommended: Recover {WF}/k1" in text
    assert "*" not in text


def test_buttons_unavailable_note() -> None:
    """When the offers could not be stored, the readout says so and shows no button."""
    doctor = report(failures=[failure("k1")])
    advice = advise(doctor, live_service_url=None)

    message = doctor_message(
        result(doctor, advice), [], requested_by="U", threaded=True, offers_error="redis down"
    )

    blocks = message.block_dicts()
    assert buttons(blocks) == []
    assert "Buttons are unavailable (redis down)" in str(blocks)
