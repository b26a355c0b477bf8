"""parse_command: ``/restate`` text to a typed command, or what is wrong and the usage."""

from __future__ import annotations

import pytest

from handlers.commands.parse import (
    ALL_USAGE,
    ENV_USAGE,
    USAGE,
    AuditCommand,
    DoctorCommand,
    FormCommand,
    HelpCommand,
    InvalidCommand,
    WriteCommand,
    parse_command,
    split_environment,
    usage_for,
)

LIVE = "http://ddwf:9080/v1"


@pytest.mark.parametrize("text", ["", "   ", "doctor", "DOCTOR"])
def test_doctor_is_the_default(text: str) -> None:
    """No text, or ``doctor`` in any case, runs doctor."""
    assert parse_command(text) == DoctorCommand()


def test_help() -> None:
    """``help`` asks for the usage."""
    assert parse_command("help") == HelpCommand()


@pytest.mark.parametrize(("text", "count"), [("audit", 10), ("audit 5", 5), ("audit 50", 50)])
def test_audit_count(text: str, count: int) -> None:
    """``audit`` shows ten attempts unless told a number up to 50."""
    assert parse_command(text) == AuditCommand(count)


@pytest.mark.parametrize("text", ["audit 0", "audit 51", "audit many", "audit 5 6"])
def test_audit_bad_count(text: str) -> None:
    """A count that is not 1 to 50 is refused with the audit usage."""
    with pytest.raises(InvalidCommand) as caught:
        parse_command(text)
    assert caught.value.usage == USAGE["audit"]


def test_redeploy_with_url() -> None:
    """``redeploy <url>`` registers that URL with force."""
    command = parse_command(f"redeploy {LIVE}")

    assert command == WriteCommand(
        "redeploy", "force-redeploy", {"serviceUrl": LIVE, "force": True}
    )


def test_redeploy_defaults_to_the_live_url() -> None:
    """``redeploy`` alone uses the configured live service URL."""
    command = parse_command("redeploy", live_service_url=LIVE)

    assert isinstance(command, WriteCommand)
    assert command.args == {"serviceUrl": LIVE, "force": True}


def test_redeploy_without_any_url_is_refused() -> None:
    """Without a URL and without RESTATE_SERVICE_URL, redeploy says what is missing."""
    with pytest.raises(InvalidCommand, match="RESTATE_SERVICE_URL"):
        parse_command("redeploy")


@pytest.mark.parametrize("wrapped", [f"<{LIVE}>", f"<{LIVE}|{LIVE}>", f"&lt;{LIVE}&gt;"])
def test_slack_link_markup_is_unwrapped(wrapped: str) -> None:
    """A URL that Slack turned into link markup is used as the plain URL."""
    command = parse_command(f"cleanup {wrapped}")

    assert isinstance(command, WriteCommand)
    assert command.args["serviceUrl"] == LIVE


@pytest.mark.parametrize(("option", "force"), [("", False), ("force-drain", True)])
def test_cleanup(option: str, force: bool) -> None:
    """``cleanup <url> [force-drain]`` keeps that URL and drains with or without force."""
    command = parse_command(f"cleanup {LIVE} {option}")

    assert command == WriteCommand(
        "cleanup", "cleanup-stale-deployments", {"serviceUrl": LIVE, "forceDrain": force}
    )


def test_writes_without_arguments_open_a_form() -> None:
    """``recover`` and ``cleanup`` alone open a form whose choices come from doctor."""
    assert parse_command("recover") == FormCommand("recover")
    assert parse_command("cleanup") == FormCommand("cleanup")


@pytest.mark.parametrize("text", [f"cleanup {LIVE} now", f"cleanup {LIVE} a b"])
def test_cleanup_malformed(text: str) -> None:
    """A cleanup with an unknown option or too many words is refused with its usage."""
    with pytest.raises(InvalidCommand) as caught:
        parse_command(text)
    assert caught.value.usage == USAGE["cleanup"]


def test_recover_with_reason() -> None:
    """``recover <name> <key> <reason…>`` keeps every word of the reason."""
    command = parse_command("recover InvitationWorkflow inv_42 customer retried twice")

    assert command == WriteCommand(
        "recover",
        "recover-stuck-workflow",
        {"serviceName": "InvitationWorkflow", "serviceKey": "inv_42"},
        "customer retried twice",
    )


def test_recover_needs_name_and_key() -> None:
    """A recover with only a service name is refused with the recover usage."""
    with pytest.raises(InvalidCommand, match="serviceName and a serviceKey") as caught:
        parse_command("recover InvitationWorkflow")
    assert caught.value.usage == USAGE["recover"]


def test_unknown_command_lists_every_usage() -> None:
    """An unknown subcommand is named, with the usage of every subcommand."""
    with pytest.raises(InvalidCommand, match="Unknown command 'restart'") as caught:
        parse_command("restart everything")
    assert caught.value.usage == ALL_USAGE


def test_doctor_takes_at_most_an_environment() -> None:
    """A second word after doctor is refused rather than ignored."""
    with pytest.raises(InvalidCommand, match="'now later' after doctor"):
        parse_command("doctor now later")


@pytest.mark.parametrize(("text", "environment"), [("doctor prod", "prod"), ("doctor ALL", "all")])
def test_doctor_names_an_environment_or_all(text: str, environment: str) -> None:
    """``doctor <name>`` and ``doctor all`` carry the name (checked when it is resolved)."""
    assert parse_command(text) == DoctorCommand(environment)


@pytest.mark.parametrize(
    ("text", "named", "rest"),
    [
        ("env=prod recover Wf k1 the reason", "prod", "recover Wf k1 the reason"),
        ("cleanup http://x:9080 ENV=Staging", "staging", "cleanup http://x:9080"),
        ("audit 5", None, "audit 5"),
        ("", None, ""),
        (
            'invocations error="bad env=prod" paused',
            None,
            'invocations error="bad env=prod" paused',
        ),
        ("invocations error='x env=prod' env=staging", "staging", "invocations error='x env=prod'"),
        ("recover Wf k1 can't start env=prod", "prod", "recover Wf k1 can't start"),
    ],
)
def test_split_environment_takes_the_env_word_anywhere(
    text: str, named: str | None, rest: str
) -> None:
    """One ``env=<name>`` word anywhere names the environment; the rest is the command. An
    ``env=`` inside a quoted value is part of that value; an apostrophe quotes nothing."""
    assert split_environment(text) == (named, rest)


@pytest.mark.parametrize("text", ["doctor env=prod env=staging", "env= doctor"])
def test_split_environment_refuses_two_or_an_empty_name(text: str) -> None:
    """Two environments, or ``env=`` without a name, are refused with the environment usage."""
    with pytest.raises(InvalidCommand) as caught:
        split_environment(text)
    assert caught.value.usage == ENV_USAGE


def test_redeploy_without_url_names_the_environment_setting() -> None:
    """In a named environment the missing live URL is named as that environment's setting."""
    with pytest.raises(InvalidCommand, match="service_url of environment prod"):
        parse_command("redeploy", service_url_setting="the service_url of environment prod")


def test_usage_for_picks_the_subcommand() -> None:
    """The usage shown with an invalid value is the one of the subcommand that was typed."""
    assert usage_for("recover a b/c") == USAGE["recover"]
    assert usage_for("bogus") == ALL_USAGE
