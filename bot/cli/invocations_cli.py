"""The ``invocations`` command group on typer; the behaviour is ``bot.cli.invocations``.

Like the rest of the CLI, importing this module loads typer only: each command imports the
triage core when it runs, so ``restate-ops --help`` stays quick. Every command takes ``--env NAME``
(else the global ``--env`` or ``RESTATE_OPS_ENV``): the environment it acts on, else the
default. An action id is found only in the environment that previewed it.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

from core.triage.names import ACTION_NAMES

if TYPE_CHECKING:
    from bot.cli.commands import Target
    from bot.cli.exits import ExitCode
    from bot.cli.terminal import Io
    from bot.services import Services

invocations = typer.Typer(
    help="Select invocations by filter; preview, approve and run one bulk action.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Service = Annotated[str | None, typer.Option("--service", help="Service name.")]
Handler = Annotated[str | None, typer.Option("--handler", help="Handler name.")]
Key = Annotated[str | None, typer.Option("--key", help="Exact key.")]
KeyPrefix = Annotated[str | None, typer.Option("--key-prefix", help="Keys starting with this.")]
Status = Annotated[
    list[str] | None,
    typer.Option("--status", help="paused, backing-off, …: repeat it or separate with commas."),
]
Deployment = Annotated[str | None, typer.Option("--deployment", help="Pinned deployment dp_….")]
Error = Annotated[str | None, typer.Option("--error", help="Text in the error, any case.")]
ErrorCode = Annotated[str | None, typer.Option("--error-code", help="Restate code, e.g. RT0011.")]
OlderThan = Annotated[str | None, typer.Option("--older-than", help="Created before: 15m, 2h, 7d.")]
NewerThan = Annotated[str | None, typer.Option("--newer-than", help="Created within: 15m, 2h.")]
Limit = Annotated[int | None, typer.Option("--limit", min=1, max=1000, help="At most N (1000).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why: recorded in the audit.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
#: As on the other commands (``bot.cli.main``): it wins over the global ``--env`` and
#: ``RESTATE_OPS_ENV``, which the global option reads.
Env = Annotated[
    str | None,
    typer.Option(
        "--env",
        metavar="NAME",
        help="The Restate environment to act on. Default: RESTATE_OPS_ENV, else the default one.",
    ),
]
ActionId = Annotated[str, typer.Argument(metavar="actionId", help="The id a preview printed.")]


def _filter(**options: Any) -> dict[str, Any]:
    from bot.cli.invocations import filter_body

    return filter_body(options)


def _go(work: Any, *, json: bool, env: str | None, reason: str | None = None) -> None:
    """Run ``work(triage, attempt, terminal)`` on ``env``'s triage (the default one when None),
    over the composition root's clients, then exit."""
    from bot.cli.main import _run, selected_environment

    name = selected_environment(env)

    def make(_settings: Any) -> Any:
        async def command(services: Services, io: Io) -> ExitCode:
            from bot.cli.commands import Target, cli_attempt
            from bot.cli.exits import ExitCode
            from bot.cli.render import environment_text

            target = Target.of(services, name)  # InvalidInput on --env for an unknown name
            if target.shown is not None and not io.json:
                io.note("environment: ", environment_text(target.shown))
            triage = target.env.require_triage()
            code = await work(triage, cli_attempt(reason), _terminal(io, target))
            return ExitCode(code)

        return command

    _run(make, json=json)


def _terminal(io: Io, target: Target) -> Any:
    """The terminal of a command on ``target``: JSON bodies name it when several exist."""
    from bot.cli.invocations import Terminal
    from bot.cli.terminal import confirm

    async def ask(question: str) -> bool:
        return await confirm(question, io.stdin, io.err)

    def dump(body: Any) -> None:
        io.dump(target.stamped(body) if isinstance(body, dict) else body)

    return Terminal(out=io.line, note=io.note, ask=ask, dump=dump, json=io.json)


@invocations.command("query")
def query(
    service: Service = None,
    handler: Handler = None,
    key: Key = None,
    key_prefix: KeyPrefix = None,
    status: Status = None,
    deployment: Deployment = None,
    error: Error = None,
    error_code: ErrorCode = None,
    older_than: OlderThan = None,
    newer_than: NewerThan = None,
    limit: Limit = None,
    show: Annotated[int, typer.Option("--show", min=0, max=1000, help="List the first N.")] = 20,
    env: Env = None,
    json: Json = False,
) -> None:
    """Counts by status and service, the first invocations, and the actions on offer."""
    body = _filter(**{k: v for k, v in locals().items() if k not in ("show", "env", "json")})

    async def work(triage: Any, attempt: Any, term: Any) -> int:
        from bot.cli import invocations as logic

        return await logic.query(triage, attempt, {**body, "shown": show}, term)

    _go(work, json=json, env=env)


def _action_command(name: str, *, with_on: bool) -> None:
    def command(
        service: Service = None,
        handler: Handler = None,
        key: Key = None,
        key_prefix: KeyPrefix = None,
        status: Status = None,
        deployment: Deployment = None,
        error: Error = None,
        error_code: ErrorCode = None,
        older_than: OlderThan = None,
        newer_than: NewerThan = None,
        limit: Limit = None,
        on: Annotated[
            str | None,
            typer.Option("--on", help="resume only: keep (pinned deployment) or latest."),
        ] = None,
        reason: Reason = None,
        yes: Yes = False,
        env: Env = None,
        json: Json = False,
    ) -> None:
        skipped = ("on", "reason", "yes", "env", "json")
        options = {k: v for k, v in locals().items() if k not in skipped}
        request: dict[str, Any] = {"action": name, "filter": _filter(**options)}
        if on is not None:
            request["deployment"] = on

        async def work(triage: Any, attempt: Any, term: Any) -> int:
            from bot.cli import invocations as logic

            return await logic.act(triage, attempt, request, term, yes=yes)

        _go(work, json=json, env=env, reason=reason)

    command.__doc__ = f"Preview, confirm and {name} the selected invocations."
    # typer reads the signature: resolve the (string) annotations here, where the aliases are
    # in scope, and drop --on from every action but resume.
    hints = get_type_hints(command, include_extras=True)
    signature = inspect.signature(command)
    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(annotation=hints[p.name])
            for p in signature.parameters.values()
            if with_on or p.name != "on"
        ]
    )
    invocations.command(name)(command)


for _name in ACTION_NAMES:
    _action_command(_name, with_on=_name == "resume")


@invocations.command("approve")
def approve(
    action_id: ActionId,
    reason: Reason = None,
    yes: Yes = False,
    env: Env = None,
    json: Json = False,
) -> None:
    """A second operator: approve an action someone else previewed, then run it."""

    async def work(triage: Any, attempt: Any, term: Any) -> int:
        from bot.cli import invocations as logic

        return await logic.approve(triage, attempt, action_id, term, yes=yes)

    _go(work, json=json, env=env, reason=reason)


@invocations.command("status")
def status(action_id: ActionId, env: Env = None, json: Json = False) -> None:
    """Where an action stands: state and counts; each item's outcome once finished."""

    async def work(triage: Any, attempt: Any, term: Any) -> int:
        from bot.cli import invocations as logic

        return await logic.status(triage, attempt, action_id, term)

    _go(work, json=json, env=env)


@invocations.command("stop")
def stop(action_id: ActionId, env: Env = None, json: Json = False) -> None:
    """Withdraw an action, or stop a running one (items in flight finish)."""

    async def work(triage: Any, attempt: Any, term: Any) -> int:
        from bot.cli import invocations as logic

        return await logic.stop(triage, attempt, action_id, term)

    _go(work, json=json, env=env)
