"""The Slack surface's small contracts: error replies, action ids and the app manifest."""

from __future__ import annotations

from pathlib import Path

from slack_bolt.error import BoltUnhandledRequestError

from core.errors import InvalidInput, PendingActionUnavailable
from handlers.commands.parse import USAGE, InvalidCommand
from handlers.errors import render_error
from handlers.ids import RUN_ACTION, route_of, run_action_id

MANIFEST = Path(__file__).resolve().parents[2] / "app.yaml"


def test_invalid_value_in_a_command_gets_that_commands_usage() -> None:
    """An InvalidInput raised for ``/restate recover`` shows the recover usage."""
    body = {"command": "/restate", "text": "recover Wf bad/key"}

    reply = render_error(InvalidInput("serviceKey", "must match ^[a-zA-Z0-9_-]+$"), body)

    assert USAGE["recover"] in reply.text


def test_malformed_command_gets_code_problem_request_id_and_usage() -> None:
    """Malformed text is answered with INVALID_INPUT, what was wrong, the request id and usage."""
    error = InvalidCommand("Unknown command 'x'.", "usage here")

    reply = render_error(error, {}, "req_0123")

    assert reply.text.startswith("INVALID_INPUT: Unknown command 'x'.")
    assert "Request id: req_0123" in reply.text
    assert "usage here" in reply.text


def test_expired_button_says_run_doctor_again() -> None:
    """An expired or used button is answered with its code and "run doctor again"."""
    reply = render_error(PendingActionUnavailable("This action has expired."), {})

    assert "PENDING_ACTION_UNAVAILABLE" in reply.text
    assert "/restate doctor" in reply.text


def test_unexpected_error_does_not_leak_its_text() -> None:
    """An unexpected exception is answered without its message (it may hold internals)."""
    reply = render_error(RuntimeError("password=hunter2"), {})

    assert "hunter2" not in reply.text
    assert "Something went wrong" in reply.text


def test_unhandled_request_type_is_known() -> None:
    """The error handler's unhandled-request branch uses Bolt's own error type."""
    assert issubclass(BoltUnhandledRequestError, Exception)


def test_action_ids_round_trip() -> None:
    """A write button's action id matches the listener and names its route."""
    action_id = run_action_id("cleanup-stale-deployments", 3)

    assert RUN_ACTION.match(action_id)
    assert route_of(action_id) == "cleanup-stale-deployments"


def test_manifest_declares_what_the_bot_needs() -> None:
    """app.yaml has /restate with a usage hint, interactivity, Socket Mode and minimal scopes."""
    text = MANIFEST.read_text()

    assert "- command: /restate" in text
    assert 'usage_hint: "[doctor [<env>|all] | redeploy [serviceUrl] | cleanup' in text
    assert "interactivity:\n    is_enabled: true" in text
    assert "app_home:\n    home_tab_enabled: true" in text
    assert "bot_events:\n      - app_home_opened" in text
    assert "socket_mode_enabled: true" in text
    scopes = [
        line.strip().removeprefix("- ")
        for line in text.split("bot:\n", 1)[1].split("settings:", 1)[0].splitlines()
        if line.strip().startswith("- ")
    ]
    assert scopes == [
        "commands",
        "chat:write",
        "usergroups:read",
        "channels:history",
        "groups:history",
    ]
    assert "# request_url: https://" in text
    assert "# url: https://" in text
