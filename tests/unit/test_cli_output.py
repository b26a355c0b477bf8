"""The CLI's terminal output: verdict first, tables that fit the width, colour only on a TTY,
server text never read as markup, and stable exit codes."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from rich.console import RenderableType

from bot.cli.exits import ExitCode, exit_code_for
from bot.cli.render import (
    cli_command,
    doctor_view,
    error_view,
    shell_lines,
    verdict_line,
    when,
)
from bot.cli.terminal import Io, console
from bot.cli.verdict import Level, Verdict, doctor_verdict
from core.advice import advise
from core.errors import (
    AdminRequestFailed,
    AdminUnreachable,
    AuditUnavailable,
    DeploymentNotFound,
    InvalidInput,
    OpsError,
    PermissionRequired,
    PreviewOutdated,
    WorkflowRetryBlocked,
)
from core.models import Advice, DeploymentsReadout, DoctorReport
from tests.unit.reports import report, result, unreachable, worst_case

ANSI = re.compile(r"\x1b\[([0-9;]*)m")


def colours(text: str) -> set[str]:
    """SGR colour parameters (30-38, 90-97) in ``text``; bold and dim are not colours."""
    params = {p for match in ANSI.finditer(text) for p in match.group(1).split(";")}
    return {p for p in params if p.isdigit() and (30 <= int(p) <= 38 or 90 <= int(p) <= 97)}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def printed(*parts: RenderableType, width: int = 80, tty: bool = False) -> str:
    stream = Tty() if tty else io.StringIO()
    Io(console(stream, width=width), console(io.StringIO()), io.StringIO()).result(*parts)
    return stream.getvalue()


def doctor_output(width: int) -> list[str]:
    readout = worst_case()
    advice = advise(readout, live_service_url="http://ddwf:9080/v1")
    parts = doctor_view(result(readout, advice), doctor_verdict(readout), width)
    return printed(*parts, width=width).splitlines()


@pytest.mark.parametrize("width", [80, 120])
def test_the_worst_doctor_readout_fits_the_terminal_width(width: int) -> None:
    """At 80 and 120 columns no line is wider than the terminal, the verdict line comes first."""
    lines = doctor_output(width)
    assert max(len(line) for line in lines) <= width
    assert lines[0].startswith(f"{doctor_verdict(worst_case()).level.upper()} · ")
    assert lines[1].split() == ["COMPONENT", "STATUS", "LATENCY", "DETAIL"]
    text = "\n".join(lines)
    for title in ("Deployments", "Recent failures", "Retrying or paused", "Next steps"):
        assert title in lines
    assert "restate-ops recover IdentityRecoveryWorkflow" in text


def test_a_long_command_is_split_so_that_a_copy_still_runs() -> None:
    """Advice commands wider than the terminal continue with a backslash, word by word."""
    words = ["restate-ops", "recover", "IdentityRecoveryWorkflow", "invitation_" + "x" * 50]
    lines = shell_lines(words, 40)
    assert lines == [
        "$ restate-ops recover \\",
        "    IdentityRecoveryWorkflow \\",
        "    invitation_" + "x" * 50,
    ]
    assert shell_lines(words[:2], 40) == ["$ restate-ops recover"]


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """A readout is coloured on a terminal, plain when piped, colourless with NO_COLOR set."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    parts = doctor_view(result(report()), Verdict("ok"), 80)
    on_tty, piped = printed(*parts, tty=True), printed(*parts)
    monkeypatch.setenv("NO_COLOR", "1")
    no_color = printed(*parts, tty=True)
    assert colours(on_tty) == {"32"}  # green: ok
    assert (ANSI.search(piped), colours(no_color)) == (None, set())
    assert ANSI.sub("", on_tty) == piped


def test_an_unreachable_component_shows_unknown_counts_never_zero() -> None:
    """With Restate down, deployments, services and invocations say their counts are unknown."""
    parts = doctor_view(result(unreachable()), doctor_verdict(unreachable()), 120)
    lines = printed(*parts, width=120).splitlines()
    rows = {line.split()[0]: line for line in lines if line.split()[:1] != [] and " " in line}
    for name in ("deployments", "services", "invocations"):
        assert "counts unknown" in rows[name]
        assert " 0 " not in rows[name]


def test_server_text_is_never_read_as_markup() -> None:
    """Brackets in a message from Restate are printed as they are."""
    error = AdminRequestFailed("POST", "/deployments", 400, "bad [bold]uri[/bold] [red]")
    assert "bad [bold]uri[/bold] [red]" in printed(error_view(error), width=120)


@pytest.mark.parametrize(
    ("readout", "level"),
    [
        (report(), "ok"),
        (
            report().model_copy(
                update={"deployments": DeploymentsReadout(status="degraded", error="x")}
            ),
            "degraded",
        ),
        (unreachable(), "unreachable"),
    ],
)
def test_the_verdict_is_read_from_the_readout(readout: DoctorReport, level: str) -> None:
    """A healthy readout is ok, a degraded component degraded, a dead admin API unreachable."""
    verdict = doctor_verdict(readout)
    assert verdict.level == level
    assert verdict_line(verdict).plain.startswith(f"{level.upper()} · ")


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("ok", ExitCode.OK),
        ("attention", ExitCode.ATTENTION),
        ("degraded", ExitCode.ATTENTION),
        ("unreachable", ExitCode.UNREACHABLE),
    ],
)
def test_the_verdict_decides_the_doctor_exit_code(level: Level, code: ExitCode) -> None:
    """ok exits 0, attention or degraded 9, unreachable 5."""
    assert Verdict(level).exit_code == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("serviceKey", "must match ^[a-zA-Z0-9_-]+$"), ExitCode.BAD_INPUT),
        (WorkflowRetryBlocked("active-invocation", "blocked", ["inv_1"]), ExitCode.BLOCKED),
        (PreviewOutdated("runs changed", ["a new run"]), ExitCode.BLOCKED),
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


def test_moments_are_shown_as_the_operator_guide_writes_them() -> None:
    """Aware datetimes and ISO strings print alike, in UTC with milliseconds; unknown is `-`."""
    berlin = timezone(timedelta(hours=2))
    assert [
        when(datetime(2026, 5, 9, 12, 7, 19, tzinfo=berlin)),
        when("2026-05-09T10:07:19.000Z"),
        when(None),
    ] == ["2026-05-09T10:07:19.000Z", "2026-05-09T10:07:19.000Z", "-"]
