"""The CLI's commands: each builds an attempt for the local operator and calls the same core.

The actor is the OS user (``getpass.getuser()``) with the operator role. Deliberately so: whoever
can run this command with the admin URL in its environment can already call the Restate admin API
directly, so a second gate here would protect nothing. What the CLI adds is the audit (surface
``cli``, the OS user and host), the same validation and previews as Slack, and a confirmation.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from typing import Any

from bot.cli.exits import ExitCode
from bot.cli.render import doctor_view, preview_view, write_view
from bot.cli.terminal import Io, confirm
from bot.cli.verdict import doctor_verdict
from bot.payloads import doctor_payload
from bot.services import Services
from core.audit import Actor
from core.authz import OPERATOR
from core.models import Route, to_json_dict
from core.operations import Attempt


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid-{os.getuid()}"


def cli_attempt(reason: str | None = None) -> Attempt:
    user, host = os_user(), socket.gethostname()
    actor = Actor(id=user, surface="cli", display_name=f"{user}@{host}", role=OPERATOR)
    return Attempt(actor=actor, reason=reason, context={"host": host})


async def doctor(services: Services, io: Io) -> ExitCode:
    """Read-only readout: the verdict first; the exit code follows the verdict."""
    result = await services.operations.doctor(cli_attempt())
    verdict = doctor_verdict(result.report)
    if io.json:
        io.dump({**doctor_payload(result), "requestId": result.request_id})
    else:
        io.result(*doctor_view(result, verdict, io.out.width))
    return verdict.exit_code


async def write(
    services: Services,
    io: Io,
    route: Route,
    args: Mapping[str, Any],
    *,
    reason: str | None,
    yes: bool,
) -> ExitCode:
    """Preview, confirm (unless ``yes``), then run one write route."""
    attempt = cli_attempt(reason)
    preview = await services.operations.preview(attempt, route, args)
    io.note(preview_view(preview))
    if not yes and not await confirm("Proceed?", io.stdin, io.err):
        io.note("Declined: nothing was changed.")
        return ExitCode.DECLINED
    result = await services.operations.execute(attempt, route, args, expected=preview.plan)
    if io.json:
        io.dump({**to_json_dict(result.response), "requestId": result.request_id})
    else:
        io.result(write_view(result, args))
    return ExitCode.OK
