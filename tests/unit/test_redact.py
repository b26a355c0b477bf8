"""URL user info and secrets never reach the audit stream or the logs."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.outgoing import redacting
from core.errors import AdminRequestFailed
from core.redact import (
    RedactingFilter,
    install_log_redaction,
    redact_new_records,
    redact_outgoing,
    redact_text,
    sanitize,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://user:secret@host/path?q#f", "http://REDACTED@host/path?q#f"),
        ("https://alice@example.com/x", "https://REDACTED@example.com/x"),
        ("http://:only-a-password@ddwf:9080/v1", "http://REDACTED@ddwf:9080/v1"),
        ("http://us%40er:p%3Ass%2Fw@host:9080/v1/", "http://REDACTED@host:9080/v1/"),
        (
            "http://u:p@[2001:db8::1]:8080/p?x=1#frag",
            "http://REDACTED@[2001:db8::1]:8080/p?x=1#frag",
        ),
        (
            "http://u:p@HOST:08080//a/../b?x=%2F&y=@z#f@g",
            "http://REDACTED@HOST:08080//a/../b?x=%2F&y=@z#f@g",
        ),
        ("http://u:p@ss@host/", "http://REDACTED@host/"),
        ("redis://:pw@localhost:6379/0", "redis://REDACTED@localhost:6379/0"),
        ("git+ssh://git:tok@example.com", "git+ssh://REDACTED@example.com"),
    ],
)
def test_url_user_info_is_replaced_and_everything_else_kept(raw: str, expected: str) -> None:
    """Only the user info changes; scheme, host, port, path, query and fragment stay as they are."""
    assert expected == sanitize(raw)


def test_urls_inside_text_are_redacted() -> None:
    """Every credentialed URL inside a sentence is redacted, the words around it are not."""
    raw = "moved http://a:b@old:1/v1 to https://c:d@new:2/v2, ping @bob"
    assert sanitize(raw) == "moved http://REDACTED@old:1/v1 to https://REDACTED@new:2/v2, ping @bob"


@pytest.mark.parametrize(
    "text",
    [
        "http://ddwf:9080/v1",
        "http://host/path?email=a@b.com#x@y",
        "alice@example.com",
        "user:pass@host:5432",
        "http://@host/",
        "IdentityRecoveryWorkflow",
        "",
    ],
)
def test_strings_without_url_user_info_are_untouched(text: str) -> None:
    """Plain strings, URLs without user info and e-mail addresses come back unchanged."""
    assert text == sanitize(text)


def test_redaction_reaches_any_depth_and_keeps_shapes() -> None:
    """Dicts, lists and tuples are walked at any depth; other scalars are returned as they are."""
    raw: dict[str, Any] = {
        "serviceUrl": "http://u:p@ddwf:9080/v1",
        "force": True,
        "retries": 3,
        "nothing": None,
        "nested": [{"deeper": ("http://x:y@h/", 1.5)}, ["https://k@h2/"]],
    }
    expected = {
        "serviceUrl": "http://REDACTED@ddwf:9080/v1",
        "force": True,
        "retries": 3,
        "nothing": None,
        "nested": [{"deeper": ("http://REDACTED@h/", 1.5)}, ["https://REDACTED@h2/"]],
    }
    assert expected == sanitize(raw)
    assert raw["nested"][0]["deeper"][0] == "http://x:y@h/", "the input is not modified"


def test_values_under_secret_keys_are_replaced() -> None:
    """Secret-looking keys lose their value whatever its case, separators or type."""
    raw = {
        "token": "xyz",
        "apiKey": "k1",
        "api_key": "k2",
        "X-Api-Key": "k3",
        "Authorization": "Basic abc",
        "password": "p",
        "slackSigningSecret": {"value": "s"},
        "accessToken": None,
        "serviceKey": "invitation_01",
        "author": "alice",
    }
    expected = {
        "token": "[REDACTED]",
        "apiKey": "[REDACTED]",
        "api_key": "[REDACTED]",
        "X-Api-Key": "[REDACTED]",
        "Authorization": "[REDACTED]",
        "password": "[REDACTED]",
        "slackSigningSecret": "[REDACTED]",
        "accessToken": None,
        "serviceKey": "invitation_01",
        "author": "alice",
    }
    assert expected == sanitize(raw)


def test_well_known_token_shapes_are_masked_in_text() -> None:
    """Slack tokens and bearer credentials are masked wherever they appear in a string."""
    raw = "used xoxb-1234-5678-abcdefgh and Bearer abcdefghijkl to call"
    assert redact_text(raw) == "used [REDACTED] and Bearer [REDACTED] to call"


def test_sanitize_is_idempotent() -> None:
    """Sanitizing twice gives the same result as once (the store sanitizes again)."""
    raw = {"url": "http://u:p@h/", "token": "t", "note": "Bearer abcdefghijkl"}
    assert sanitize(raw) == sanitize(sanitize(raw))


def test_lone_surrogates_are_sent_as_visible_text_and_stored_as_they_are() -> None:
    """An answer writes a lone surrogate out as text (encodable); the audit keeps it as sent."""
    raw = {"note\udc80": ["a\ud800b", "http://u:p@h/\udfff"]}
    sent = redact_outgoing(raw)
    assert sent == {"note\\udc80": ["a\\ud800b", "http://REDACTED@h/\\udfff"]}
    json.dumps(sent, ensure_ascii=False).encode("utf-8")
    assert redact_outgoing(sent) == sent
    assert sanitize(raw) == {"note\udc80": ["a\ud800b", "http://REDACTED@h/\udfff"]}


def test_url_as_a_key_is_redacted_too() -> None:
    """A field *name* can be a credentialed URL (an unknown field echoed back); it is redacted."""
    assert sanitize({"http://u:p@h/": 1}) == {"http://REDACTED@h/": 1}


def test_outgoing_answers_keep_their_fields_and_lose_user_info() -> None:
    """An answer keeps every field, even secret-looking names, but no URL keeps its user info."""
    answer = {
        "serviceUrl": "http://admin:pw@ddwf:9080/",
        "data": {"restateMessage": "cannot reach http://admin:pw@ddwf:9080/discover"},
        "items": [{"tokenCount": 3, "id": "dp_1"}],
        "bad": "x\ud800",
    }
    assert redact_outgoing(answer) == {
        "serviceUrl": "http://REDACTED@ddwf:9080/",
        "data": {"restateMessage": "cannot reach http://REDACTED@ddwf:9080/discover"},
        "items": [{"tokenCount": 3, "id": "dp_1"}],
        "bad": "x\\ud800",
    }


def test_redacting_writer_cleans_every_write_and_reports_its_stream() -> None:
    """What the CLI writes loses URL user info; isatty is the wrapped stream's."""
    stream = io.StringIO()
    writer = redacting(stream)
    writer.write("kept http://ops:hunter2@host:1/ as asked\n")
    writer.flush()
    assert stream.getvalue() == "kept http://REDACTED@host:1/ as asked\n"
    assert writer.isatty() is False
    assert redacting(writer) is writer


# --- logs -------------------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test_redact.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    install_log_redaction(["sm_dalp_operator_1234567890"], logger)
    yield logger, stream
    logger.removeHandler(handler)


def test_log_messages_and_arguments_are_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """URL user info, secret dict values, key=value pairs and known secrets stay out of logs."""
    logger, stream = captured
    logger.info("registering %s with %s", "http://u:hunter2@ddwf/v1", {"token": "t0ps3cret"})
    logger.info("retrying with api_key=abc123 and key sm_dalp_operator_1234567890")
    expected = (
        "INFO registering http://REDACTED@ddwf/v1 with {'token': '[REDACTED]'}\n"
        "INFO retrying with api_key=[REDACTED] and key [REDACTED]\n"
    )
    assert expected == stream.getvalue()


def test_tracebacks_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """An exception message carrying credentials is masked in the logged traceback."""
    logger, stream = captured
    try:
        raise ValueError("cannot reach http://admin:hunter2@restate:9070/")
    except ValueError:
        logger.exception("admin call failed")
    output = stream.getvalue()
    assert "hunter2" not in output
    assert "ValueError: cannot reach http://REDACTED@restate:9070/" in output


def test_filter_keeps_records_and_survives_bad_format_arguments() -> None:
    """A record whose arguments do not fit its format is still logged, and still redacted."""
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "count %(token)d", ({"token": 5},), None
    )
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "count %(token)d {'token': '[REDACTED]'}"


@pytest.mark.parametrize(
    "text",
    ["a" * 200_000, "http://" + "a" * 200_000, "token" * 40_000, "a=" * 100_000, "a:/" * 70_000],
)
def test_redaction_stays_linear_on_long_lines(text: str) -> None:
    """A huge log line is redacted in well under a second (no catastrophic backtracking)."""
    began = time.perf_counter()
    RedactingFilter(["sm_dalp_operator_1234567890"]).redact(text)
    assert time.perf_counter() - began < 1.0


def test_records_are_redacted_for_handlers_added_later() -> None:
    """Once installed, a handler added afterwards (no filter of its own) sees only clean text."""
    previous = logging.getLogRecordFactory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(f"test_redact.later.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        redact_new_records(RedactingFilter(["sm_dalp_operator_1234567890"]))
        redact_new_records(RedactingFilter())  # again: still one redaction, no double wrapping
        logger.addHandler(handler)
        try:
            raise RuntimeError("GET http://ops:hunter2@admin:9070/ failed")
        except RuntimeError:
            logger.exception("key %s failed", "sm_dalp_operator_1234567890")
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "hunter2" not in text
    assert "http://REDACTED@admin:9070/" in text
    assert "RuntimeError" in text


def test_errors_built_from_credentialed_urls_carry_no_password() -> None:
    """Core's errors redact their message and data when built, whatever surface shows them."""
    error = AdminRequestFailed(
        "POST", "/deployments", 400, "cannot reach http://ops:hunter2@svc:9080/discover"
    )
    assert "hunter2" not in error.message + json.dumps(error.to_body())
    assert error.data["restateMessage"] == "cannot reach http://REDACTED@svc:9080/discover"


def test_records_keep_their_arguments_redacted_for_formatters_that_read_them() -> None:
    """A formatter that builds its line from ``record.args`` (the demo's) still gets them, clean."""
    previous = logging.getLogRecordFactory()
    try:
        redact_new_records(RedactingFilter())
        record = logging.getLogger("test_redact.args").makeRecord(
            "x",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s" %d',
            ("c", "POST", "/p?u=http://a:pw@h/", 200),
            None,
        )
        error = RuntimeError("GET http://ops:pw@admin:9070/ failed")
        with_exc = logging.getLogger("test_redact.args").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed: %s (%d tries)", (error, 3), None
        )
    finally:
        logging.setLogRecordFactory(previous)
    assert record.args == ("c", "POST", "/p?u=http://REDACTED@h/", 200)
    assert record.getMessage() == 'c - "POST /p?u=http://REDACTED@h/" 200'
    assert with_exc.getMessage() == "failed: GET http://REDACTED@admin:9070/ failed (3 tries)"
