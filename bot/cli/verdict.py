"""The doctor readout's overall verdict as the terminal shows it, and the exit code it maps to.

The verdict itself belongs to core (``ok`` / ``attention`` / ``degraded`` / ``unreachable``,
counting failures and stuck runs). Until core's readout carries one, :func:`doctor_verdict` reads
only what the readout already says, the component statuses, and decides nothing else: every
surface must agree on one verdict, so its rules live in core, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.cli.exits import ExitCode

if TYPE_CHECKING:
    from core.models import DoctorReport

Level = Literal["ok", "attention", "degraded", "unreachable"]

#: How each level is shown and what it exits with (documented in bot/cli/exits.py and the README).
COLOURS: dict[Level, str] = {
    "ok": "green",
    "attention": "yellow",
    "degraded": "yellow",
    "unreachable": "red",
}
EXIT_CODES: dict[Level, ExitCode] = {
    "ok": ExitCode.OK,
    "attention": ExitCode.ATTENTION,
    "degraded": ExitCode.ATTENTION,
    "unreachable": ExitCode.UNREACHABLE,
}


@dataclass(frozen=True)
class Verdict:
    level: Level
    #: One line saying what is wrong ("invocations unreachable"), empty when nothing is.
    summary: str = ""

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_CODES[self.level]


def doctor_verdict(report: DoctorReport) -> Verdict:
    """The verdict of ``report``: core's own once the readout carries one (``report.verdict``)."""
    judged: Any = getattr(report, "verdict", None)
    if judged is not None:
        return Verdict(judged.status, judged.summary)
    # Until then: only what the readout already says, its component statuses.
    statuses = {
        "ingress": report.ingress.status,
        "admin": report.admin.status,
        "deployments": report.deployments.status,
        "services": report.services.status,
        "invocations": report.invocations.status,
    }
    summary = " · ".join(f"{name} {status}" for name, status in statuses.items() if status != "ok")
    if statuses["admin"] == "unreachable":
        return Verdict("unreachable", summary)
    return Verdict("degraded", summary) if summary else Verdict("ok")
