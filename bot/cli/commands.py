"""The CLI's commands: each builds an attempt for the local operator and calls the same core.

The actor is the OS user (``getpass.getuser()``) with the operator role. Deliberately so: whoever
can run this command with the admin URL in its environment can already call the Restate admin API
directly, so a second gate here would protect nothing. What the CLI adds is the audit (surface
``cli``, the OS user and host), the same validation and previews as Slack, and a confirmation.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.cli.exits import ExitCode
from bot.cli.render import component_statuses, doctor_text, preview_text, write_text
from bot.cli.terminal import Style, confirm
from bot.payloads import doctor_payload
from bot.services import Services
from core.audit import Actor
from core.audit_views import render_lines, render_verify, view_json
from core.authz import OPERATOR
from core.models import Route, to_json_dict
from core.operations import Attempt


@dataclass(frozen=True)
class Console:
    """Where the CLI reads and writes. Results go to ``out``; prompts and notes to ``err``."""

    out: TextIO
    err: TextIO
    stdin: TextIO
    style: Style
    json: bool = False

    def result(self, text: str) -> None:
        self.out.write(text + "\n")

    def note(self, text: str) -> None:
        self.err.write(text + "\n")

    def dump(self, value: Any) -> None:
        self.out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid-{os.getuid()}"


def cli_attempt(reason: str | None = None) -> Attempt:
    user, host = os_user(), socket.gethostname()
    actor = Actor(id=user, surface="cli", display_name=f"{user}@{host}", role=OPERATOR)
    return Attempt(actor=actor, reason=reason, context={"host": host})


async def doctor(services: Services, console: Console) -> ExitCode:
    """Read-only readout; exit 0 only when every component is ok."""
    result = await services.operations.doctor(cli_attempt())
    if console.json:
        console.dump({**doctor_payload(result), "requestId": result.request_id})
    else:
        console.result(doctor_text(result, console.style))
    healthy = all(status == "ok" for status in component_statuses(result.report))
    return ExitCode.OK if healthy else ExitCode.CHECK_FAILED


async def write(
    services: Services,
    console: Console,
    route: Route,
    args: Mapping[str, Any],
    *,
    reason: str | None,
    yes: bool,
) -> ExitCode:
    """Preview, confirm (unless ``yes``), then run one write route."""
    attempt = cli_attempt(reason)
    preview = await services.operations.preview(attempt, route, args)
    console.note(preview_text(preview, console.style))
    if not yes and not await confirm("Proceed?", console.stdin, console.err):
        console.note("Declined: nothing was changed.")
        return ExitCode.DECLINED
    result = await services.operations.execute(attempt, route, args)
    if console.json:
        console.dump({**to_json_dict(result.response), "requestId": result.request_id})
    else:
        console.result(write_text(result, args, console.style))
    return ExitCode.OK


async def audit_tail(services: Services, console: Console, count: int) -> ExitCode:
    """The newest ``count`` attempts, oldest first so the newest ends up last, as with tail(1)."""
    views = list(reversed(await services.audit.latest(count)))
    now = datetime.now(UTC)
    if console.json:
        console.dump([view_json(view, now) for view in views])
    else:
        console.result(render_lines(views, now))
    return ExitCode.OK


async def audit_verify(services: Services, console: Console) -> ExitCode:
    """Walk the hash chain; exit 8 when a link is broken or missing."""
    result = await services.audit.verify()
    if console.json:
        console.dump(result.model_dump(mode="json"))
    else:
        console.result(render_verify(result))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED
