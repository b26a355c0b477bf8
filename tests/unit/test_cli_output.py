"""The CLI's terminal conventions: colour only on a TTY, aligned tables, stable exit codes."""

from __future__ import annotations

import io
import re

import pytest

from bot.cli.exits import ExitCode, exit_code_for
from bot.cli.render import cli_command
from bot.cli.terminal import Cell, Style, colour_enabled, table
from core.errors import (
    AdminRequestFailed,
    AdminUnreachable,
    AuditUnavailable,
    DeploymentNotFound,
    InvalidInput,
    OpsError,
    PermissionRequired,
    WorkflowRetryBlocked,
)
from core.models import Advice


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "expected"),
    [
        (Tty(), {}, True),
        (io.StringIO(), {}, False),
        (Tty(), {"NO_COLOR": "1"}, False),
        (Tty(), {"NO_COLOR": ""}, True),
        (Tty(), {"TERM": "dumb"}, False),
    ],
)
def test_colour_only_on_a_tty_without_no_color(
    stream: io.StringIO, environ: dict[str, str], expected: bool
) -> None:
    """Colour is on for a terminal unless NO_COLOR is non-empty or TERM is dumb."""
    assert colour_enabled(stream, environ) == expected


def test_table_columns_align_whatever_the_colours() -> None:
    """Escape codes do not count towards a column's width."""
    rows: list[list[Cell]] = [
        ["ingress", ("ok", "green"), "12 ms"],
        ["deployments", ("degraded", "yellow"), "-"],
    ]
    plain = table(Style(False), ["COMPONENT", "STATUS", "LATENCY"], rows)
    coloured = table(Style(True), ["COMPONENT", "STATUS", "LATENCY"], rows)
    assert plain.splitlines() == [
        "COMPONENT    STATUS    LATENCY",
        "ingress      ok        12 ms",
        "deployments  degraded  -",
    ]
    assert "\x1b[32mok\x1b[0m" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured) == plain


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("serviceKey", "must match ^[a-zA-Z0-9_-]+$"), ExitCode.BAD_INPUT),
        (WorkflowRetryBlocked("active-invocation", "blocked", ["inv_1"]), ExitCode.BLOCKED),
        (DeploymentNotFound("no such deployment"), ExitCode.NOT_FOUND),
        (AdminUnreachable("down"), ExitCode.UNREACHABLE),
        (AuditUnavailable("redis down"), ExitCode.UNREACHABLE),
        (PermissionRequired("no"), ExitCode.DENIED),
        (AdminRequestFailed("POST", "/deployments", 500, "boom"), ExitCode.ERROR),
        (OpsError("internal"), ExitCode.ERROR),
    ],
)
def test_each_error_class_has_its_exit_code(error: OpsError, code: ExitCode) -> None:
    """Scripts can branch on the exit code: one per class of error."""
    assert exit_code_for(error) == code


def test_advice_becomes_a_quoted_command_line() -> None:
    """A write advice is shown as the exact, shell-quoted `restate-ops` command that runs it."""
    advice = Advice(
        kind="cleanup-stale-deployments",
        route="cleanup-stale-deployments",
        title="Delete stale deployments",
        preview="Delete 1.",
        args={"serviceUrl": "http://ddwf:9080/v1?a=b c", "forceDrain": True},
    )
    assert cli_command(advice) == "restate-ops cleanup 'http://ddwf:9080/v1?a=b c' --force-drain"
