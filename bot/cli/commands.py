"""The CLI's commands: each builds an attempt for the local operator and calls the same core.

The actor is the OS user (``getpass.getuser()``) with the operator role. Deliberately so: whoever
can run this command with the admin URL in its environment can already call the Restate admin API
directly, so a second gate here would protect nothing. What the CLI adds is the audit (surface
``cli``, the OS user and host), the same validation and previews as Slack, and a confirmation.

With several environments the same holds per environment: the CLI acts on one (``--env``, else
the default), through that environment's use cases, so its audit entry names it. The file's
allowlists and API keys are for Slack users and HTTP callers; a process that reads the file (and
the variables it references) holds every admin URL in it already. What the CLI does add per
environment: every line it prints and its confirmation question name the environment (``PROD``
for production), and each command it suggests carries ``--env``.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.cli.exits import ExitCode
from bot.cli.render import doctor_view, preview_view, write_view
from bot.cli.terminal import Io, confirm
from bot.cli.verdict import doctor_verdict
from bot.payloads import doctor_payload
from bot.services import Services
from core.approvals import Approvals
from core.audit import Actor
from core.authz import OPERATOR
from core.environments import Environment, EnvironmentSpec
from core.errors import ApprovalRequired, InvalidInput
from core.models import Route, to_json_dict
from core.operations import Attempt, WriteResult
from core.timestamps import iso_utc

#: The option that names the environment (``RESTATE_OPS_ENV`` when not given).
ENV_OPTION = "--env"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid-{os.getuid()}"


def cli_attempt(reason: str | None = None) -> Attempt:
    user, host = os_user(), socket.gethostname()
    actor = Actor(id=user, surface="cli", display_name=f"{user}@{host}", role=OPERATOR)
    return Attempt(actor=actor, reason=reason, context={"host": host})


@dataclass(frozen=True)
class Target:
    """The environment a command acts on, and whether others exist (then output names it)."""

    env: Environment
    several: bool

    @classmethod
    def of(cls, services: Services, name: str | None) -> Target:
        """``name``'s environment, else the default; ``InvalidInput`` on ``--env`` otherwise.

        An empty ``--env ""`` (a script's unset variable) is refused, never the default: the
        caller meant some environment. (An empty ``RESTATE_OPS_ENV`` counts as unset.)
        """
        if name is not None and not name.strip():
            names = ", ".join(services.environments.names)
            raise InvalidInput(ENV_OPTION, f"must name an environment: one of {names}")
        try:
            env = services.environments.resolve(name)
        except InvalidInput as exc:
            raise InvalidInput(ENV_OPTION, exc.rule) from None
        return cls(env, services.environments.several)

    @property
    def shown(self) -> EnvironmentSpec | None:
        """The environment to name in the output: only when several are configured."""
        return self.env.spec if self.several else None

    def stamped(self, body: dict[str, Any]) -> dict[str, Any]:
        """A JSON body, with ``environment`` when several are configured (else unchanged)."""
        return {**body, "environment": self.env.name} if self.several else body


async def doctor(target: Target, io: Io) -> ExitCode:
    """Read-only readout: the verdict first; the exit code follows the verdict."""
    result = await target.env.operations.doctor(cli_attempt())
    verdict = doctor_verdict(result.report)
    if io.json:
        io.dump(target.stamped({**doctor_payload(result), "requestId": result.request_id}))
    else:
        io.result(*doctor_view(result, verdict, io.out.width, target.shown))
    return verdict.exit_code


async def write(
    target: Target,
    io: Io,
    route: Route,
    args: Mapping[str, Any],
    *,
    reason: str | None,
    yes: bool,
) -> ExitCode:
    """Preview, confirm (unless ``yes``), then run one write route; a write under the
    two-person rule is held instead, and the approval id printed for a second operator."""
    operations = target.env.operations
    attempt = cli_attempt(reason)
    preview = await operations.preview(attempt, route, args)
    io.note(preview_view(preview, target.shown))
    if preview.needs_approval:
        question = "Ask a second operator to approve it?"
    else:
        question = "Proceed?" if target.shown is None else f"Proceed on {target.env.label}?"
    if not yes and not await confirm(question, io.stdin, io.err):
        io.note("Declined: nothing was changed.")
        return ExitCode.DECLINED
    try:
        result = await operations.execute(attempt, route, args, expected=preview.plan)
    except ApprovalRequired as held:
        return _held(io, held, target)
    _written(io, result, args, target)
    return ExitCode.OK


async def approve(
    services: Services,
    io: Io,
    approval_id: str,
    *,
    environment: str | None,
    reason: str | None,
    yes: bool,
) -> ExitCode:
    """A second operator: show the held write, confirm (unless ``yes``), approve and run it
    in the environment that held it. With ``--env`` (or ``RESTATE_OPS_ENV``) the operator says
    where they act: another environment's write is refused there, as on the HTTP route."""
    if environment is not None:
        Target.of(services, environment)  # an unknown name: InvalidInput on --env
    approvals = Approvals(services.environments, services.pending)
    attempt = cli_attempt(reason)
    try:
        held = await approvals.show(attempt, approval_id, environment=environment)
    except InvalidInput as exc:
        if exc.field != "environment":
            raise
        raise InvalidInput(ENV_OPTION, exc.rule).with_request_id(attempt.request_id) from None
    target = Target(services.environments.get(held.environment), services.environments.several)
    expires = iso_utc(held.expires_at) if held.expires_at else "?"
    where = "" if target.shown is None else f" on {target.env.label}"
    io.note(f"{held.route}{where} requested by {held.requested_by}, waiting until {expires}:")
    io.note(held.preview)
    if not yes and not await confirm("Approve and run it?", io.stdin, io.err):
        io.note("Declined: nothing was changed; it still waits for approval.")
        return ExitCode.DECLINED
    result = await approvals.approve(attempt, approval_id, environment=environment)
    _written(io, result, held.args, target)
    return ExitCode.OK


def _written(io: Io, result: WriteResult, args: Mapping[str, Any], target: Target) -> None:
    if io.json:
        io.dump(target.stamped({**to_json_dict(result.response), "requestId": result.request_id}))
    else:
        io.result(write_view(result, args, target.shown))


def _held(io: Io, held: ApprovalRequired, target: Target) -> ExitCode:
    """Held for a second operator: nothing changed; say who can run it, and how."""
    approval_id = held.data.get("approvalId")
    if io.json:
        io.dump(target.stamped(held.to_body()))
    else:
        io.note(held.message)
        io.note(f"approval id: {approval_id}")
    io.note(
        "A second operator (another OS user) approves and runs it before "
        f"{held.data.get('expiresAt')}: restate-ops approve {approval_id}"
    )
    return ExitCode.OK
