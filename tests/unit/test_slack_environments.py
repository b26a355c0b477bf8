"""Slack with several environments: every message, button and dialog names its environment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from core.audit import Actor, AttemptStart, AttemptView
from core.environments import Environment, Environments, EnvironmentSpec
from core.errors import PermissionRequired
from core.models import Advice
from handlers.blocks.audit import audit_message
from handlers.blocks.doctor import doctor_message
from handlers.blocks.doctor_all import EnvironmentLine, doctor_all_message
from handlers.blocks.environment import NO_TAG, EnvTag, env_tag
from handlers.blocks.errors import error_message
from handlers.blocks.modals import FormState, fit_choices, submitted
from handlers.blocks.offers import Offer, button
from handlers.commands.parse import ALL_USAGE, help_usage
from handlers.errors import naming_environment
from handlers.ids import env_value, split_env_value
from handlers.payloads import ButtonClick
from tests.unit.reports import WF, failure, report, result

PROD = EnvTag("prod", "🔴 PROD")
STAGING = EnvTag("staging", "staging")
RECOVER = Advice(
    kind="recover-stuck-workflow",
    title=f"Recover {WF}/k1",
    preview=f"Kill and purge the failed run of {WF}/k1.",
    route="recover-stuck-workflow",
    args={"serviceName": WF, "serviceKey": "k1"},
    destructive=True,
)


def environment(name: str, *, production: bool = False) -> Environment:
    """An environment as renderers see it (its clients are never used here)."""
    spec = EnvironmentSpec(name=name, admin_url=f"http://{name}:9070", production=production)
    return Environment(spec=spec, admin=cast(Any, None), ingress=None, operations=cast(Any, None))


def flat(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_lone_default_environment_is_not_named() -> None:
    """A single-environment bot tags nothing, so its messages are unchanged."""
    assert env_tag(environment("default"), several=False) == NO_TAG


def test_production_is_always_named_and_stands_out() -> None:
    """Production shows 🔴 PROD even alone; others show their name when there are several."""
    assert env_tag(environment("prod", production=True), several=False).badge == "🔴 PROD"
    assert env_tag(environment("staging"), several=True).prefix == "staging · "
    assert env_tag(environment("staging"), several=False).badge is None


@pytest.mark.parametrize(("environment_name", "value"), [("default", "abc"), ("prod", "prod:abc")])
def test_button_values_name_their_environment(environment_name: str, value: str) -> None:
    """A value names its environment (bare in ``default``) and reads back the same."""
    assert env_value(environment_name, "abc") == value
    assert split_env_value(value) == (environment_name, "abc")


def test_a_prod_button_says_prod_in_its_label_and_confirm_title() -> None:
    """The button and its confirm dialog start with 🔴 PROD; the value carries prod."""
    element = button(Offer(RECOVER, "pid1", "prod"), 0, PROD).to_dict()

    assert element["text"]["text"].startswith("🔴 PROD · Recover")
    assert element["confirm"]["title"]["text"] == f"🔴 PROD · Recover {WF}/k1"
    assert element["value"] == "prod:pid1"


def test_a_default_button_is_unchanged() -> None:
    """Without an environment tag the button is the one a single-environment bot always sent."""
    element = button(Offer(RECOVER, "pid1"), 0).to_dict()

    assert element["value"] == "pid1"
    assert element["confirm"]["title"] == {"type": "plain_text", "text": f"Recover {WF}/k1"}
    assert element["text"]["text"] == "Recover k1"


def test_the_doctor_headline_names_the_environment() -> None:
    """The readout's header and fallback text start with the environment's badge."""
    doctor = result(report(failures=[failure("k1")]), [RECOVER])
    message = doctor_message(
        doctor, [Offer(RECOVER, "pid", "staging")], requested_by="U1", threaded=True, env=STAGING
    )

    header = message.block_dicts()[0]
    assert header["text"]["text"].startswith("staging · ")
    assert message.text.startswith("staging · ")
    assert "staging:pid" in flat(message.block_dicts())


def test_the_audit_shows_an_environment_column_with_several() -> None:
    """Each audit line starts with its environment when there are several (old entries: default)."""
    start = AttemptStart(
        attempt_id="att_1",
        request_id="req_1",
        actor=Actor(id="U1", surface="slack", role="operator"),
        route="doctor",
        args={},
        started_at=datetime(2026, 5, 9, 10, 7, tzinfo=UTC),
        environment="prod",
    )
    old = start.model_copy(update={"environment": None, "request_id": "req_0"})
    views = [AttemptView(start=start), AttemptView(start=old)]

    lines = audit_message(views, datetime(2026, 5, 9, 10, 8, tzinfo=UTC), several=True).text
    single = audit_message(views, datetime(2026, 5, 9, 10, 8, tzinfo=UTC)).text

    assert [line.split()[0] for line in lines.splitlines()] == ["prod", "default"]
    assert not single.startswith("prod")


def test_doctor_all_has_a_line_per_environment() -> None:
    """Each environment's line has its badge, verdict and counts, or its refusal."""
    ok = result(report(), [])
    denied = PermissionRequired("U1 does not have system operate permission.")
    denied.with_request_id("req_d")

    message = doctor_all_message(
        [EnvironmentLine("🔴 PROD", error=denied), EnvironmentLine("staging", result=ok)],
        requested_by="U1",
    )

    lines = message.text.splitlines()
    assert lines[1].startswith("🔴 PROD · ❌ OFFCHAIN_USER_PERMISSION_REQUIRED")
    assert lines[1].endswith("request req_d")
    assert lines[2].startswith("staging · ✅ all clear · 0 failed · 0 stuck")


async def test_a_refusal_names_its_environment_when_messages_do() -> None:
    """A refusal raised about prod says PROD and which allowlist; a lone default's is unchanged."""
    shown: dict[str, str] = {}
    for tag in (PROD, NO_TAG):
        with pytest.raises(PermissionRequired) as caught:
            async with naming_environment(tag):
                raise PermissionRequired("U1 does not have system operate permission.")
        shown[tag.name] = error_message(caught.value).text

    assert shown["prod"].startswith("❌\n🔴 PROD · OFFCHAIN_USER_PERMISSION_REQUIRED")
    assert "the operator_allowlist of 🔴 PROD" in shown["prod"]
    assert "PROD" not in shown["default"]
    assert "OPERATOR_ALLOWLIST" in shown["default"]


def test_a_form_carries_its_environment_to_the_submission() -> None:
    """The environment rides in private_metadata and comes back with the submission."""
    state = fit_choices("C1", [[WF, "k1"]], "prod")
    view = {
        "private_metadata": state.dump(),
        "state": {
            "values": {"restate.form.choice": {"choice": {"selected_option": {"value": "0"}}}}
        },
    }

    assert submitted("recover", view).environment == "prod"
    assert FormState.load(fit_choices("C1", []).dump()).environment == "default"
    assert '"e"' not in fit_choices("C1", []).dump()


def test_a_click_reads_the_environment_from_the_value() -> None:
    """A write button's value gives the environment to look the action up in."""
    body = {"user": {"id": "U1", "username": "olivia"}}
    action = {"action_id": "restate.run:recover-stuck-workflow:0", "value": "staging:pid9"}

    click = ButtonClick.from_payload(body, action)

    assert (click.environment, click.pending_id) == ("staging", "pid9")


def test_help_names_the_environments_only_when_there_are_several() -> None:
    """A single environment's help is unchanged; several add env= and the names."""
    one = Environments([environment("default")], "default")
    two = Environments([environment("prod", production=True), environment("staging")], "staging")

    assert help_usage(one) == ALL_USAGE
    assert "env=<name>" in help_usage(two)
    assert "Environments: prod, staging." in help_usage(two)
