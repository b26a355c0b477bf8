"""`restate-ops`: commands, arguments and their help, on typer.

Start-up stays quick: this module imports typer and the exit codes only. Each command imports
what it needs when it runs, so `restate-ops --help` loads no redis, httpx, pydantic or Slack
(a unit test holds it to that; ``bench/cli_startup.py`` measures it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from bot.cli.exits import ExitCode, exit_code_table
from bot.cli.invocations_cli import invocations

if TYPE_CHECKING:
    from bot.cli.commands import Target
    from bot.cli.terminal import Io
    from bot.services import Services
    from bot.settings import Settings
    from core.environments import EnvironmentSpec
    from core.errors import OpsError
    from core.models import Route

Command = Callable[["Services", "Io"], Awaitable[ExitCode]]
#: A command that acts on one Restate environment (``--env``, else the default).
EnvCommand = Callable[["Target", "Io"], Awaitable[ExitCode]]

DESCRIPTION = """\
Doctor, guarded recovery and the audit trail for Restate, from a terminal.

Run `doctor` first, one write, then `doctor` again. Every write shows what it will change and asks
for confirmation (--yes skips the question). Every command is audited with the surface `cli` and
your OS user as the actor: the CLI is for operators who already hold the admin URL. Configuration
comes from the environment or a .env file, as for `serve`. With several Restate environments
(RESTATE_OPS_CONFIG), --env NAME or RESTATE_OPS_ENV picks one; the default environment otherwise.
"""

app = typer.Typer(
    name="restate-ops",
    help=DESCRIPTION,
    # \b keeps click from re-flowing the table.
    epilog="\b\nexit codes:\n" + exit_code_table(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: quick, and nothing in it is read as markup
    context_settings={"help_option_names": ["-h", "--help"]},
)
audit = typer.Typer(
    help="Read and check the audit trail.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(audit, name="audit")
config = typer.Typer(
    help="Check the configuration and the Restate environments it names.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(config, name="config")
app.add_typer(invocations, name="invocations")

Json = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (errors too) instead of text.")
]
Reason = Annotated[
    str | None,
    typer.Option("--reason", metavar="TEXT", help="Why: recorded in the audit entry."),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ENV_HELP = "The Restate environment to act on. Default: RESTATE_OPS_ENV, else the default one."
#: On a command: ``restate-ops doctor --env staging``; it wins over the global option.
Env = Annotated[str | None, typer.Option("--env", metavar="NAME", help=ENV_HELP)]


#: The global ``--env`` (or ``RESTATE_OPS_ENV``), set by :func:`_global_options` before a command.
_global_env: list[str | None] = [None]


@app.callback()
def _global_options(
    env: Annotated[
        str | None,
        typer.Option("--env", metavar="NAME", envvar="RESTATE_OPS_ENV", help=ENV_HELP),
    ] = None,
) -> None:
    """Options before the command: ``restate-ops --env staging doctor``."""
    _global_env[0] = env


def selected_environment(env: str | None) -> str | None:
    """The command's ``--env``, else the global one (or ``RESTATE_OPS_ENV``), else None."""
    return env if env is not None else _global_env[0]


# --- commands -------------------------------------------------------------------------------------


@app.command()
def doctor(env: Env = None, json: Json = False) -> None:
    """Read-only readout: the verdict, each component, the next steps.

    Exits 0 when the verdict is ok, 9 on attention or degraded, 5 when unreachable.
    """
    from bot.cli import commands

    _run_on_env(lambda _spec: commands.doctor, env=env, json=json)


@app.command()
def redeploy(
    service_url: Annotated[
        str | None,
        typer.Argument(
            metavar="serviceUrl",
            help="The service URL to register. Default: RESTATE_SERVICE_URL.",
            show_default=False,
        ),
    ] = None,
    no_force: Annotated[
        bool, typer.Option("--no-force", help="Send force=false: Restate refuses a changed URL.")
    ] = False,
    reason: Reason = None,
    yes: Yes = False,
    env: Env = None,
    json: Json = False,
) -> None:
    """force-redeploy: register the live service URL with Restate."""

    def make(spec: EnvironmentSpec) -> EnvCommand:
        if service_url is not None:  # an explicit "" is bad input for core, never the default
            url = service_url
        elif spec.service_url is not None:
            url = spec.service_url
        else:
            from core.errors import InvalidInput

            raise InvalidInput(
                "serviceUrl",
                f"is required: pass it or set the service URL of {spec.name} "
                "(RESTATE_SERVICE_URL, or service_url in the environments file)",
            )
        return _write("force-redeploy", {"serviceUrl": url, "force": not no_force}, reason, yes)

    _run_on_env(make, env=env, json=json)


@app.command()
def cleanup(
    service_url: Annotated[
        str,
        typer.Argument(metavar="serviceUrl", help="The deployment URL to keep."),
    ],
    force_drain: Annotated[
        bool,
        typer.Option("--force-drain", help="Also delete deployments still serving invocations."),
    ] = False,
    reason: Reason = None,
    yes: Yes = False,
    env: Env = None,
    json: Json = False,
) -> None:
    """cleanup-stale-deployments: keep one deployment, delete others.

    Drained deployments are deleted; busy ones are skipped unless --force-drain.
    """
    args = {"serviceUrl": service_url, "forceDrain": force_drain}
    _run_on_env(
        lambda _spec: _write("cleanup-stale-deployments", args, reason, yes), env=env, json=json
    )


@app.command()
def recover(
    service_name: Annotated[
        str,
        typer.Argument(
            metavar="serviceName", help="The workflow service, e.g. InvitationWorkflow."
        ),
    ],
    service_key: Annotated[
        str, typer.Argument(metavar="serviceKey", help="The workflow key whose runs failed.")
    ],
    reason: Reason = None,
    yes: Yes = False,
    env: Env = None,
    json: Json = False,
) -> None:
    """recover-stuck-workflow: clear one workflow key's failed runs.

    Kills and purges the key's terminal-failed runs and clears its state; refused while the
    key has an active or succeeded run.
    """
    args = {"serviceName": service_name, "serviceKey": service_key}
    _run_on_env(
        lambda _spec: _write("recover-stuck-workflow", args, reason, yes), env=env, json=json
    )


@app.command()
def approve(
    approval_id: Annotated[
        str,
        typer.Argument(metavar="approvalId", help="The approval id a held write printed (apr_…)."),
    ],
    reason: Reason = None,
    yes: Yes = False,
    env: Env = None,
    json: Json = False,
) -> None:
    """A second operator: approve a write held for approval (cleanup --force-drain), run it.

    It runs in the environment that held it; with --env (or RESTATE_OPS_ENV), only a write held
    there. The requester cannot approve their own write (exit 6); an expired approval exits 1.
    """
    from bot.cli import commands

    name = selected_environment(env)

    async def run(services: Services, io: Io) -> ExitCode:
        return await commands.approve(
            services, io, approval_id, environment=name, reason=reason, yes=yes
        )

    _run(lambda _settings: run, json=json)


@audit.command("tail")
def audit_tail(
    count: Annotated[
        int,
        typer.Argument(metavar="n", min=1, max=1000, help="How many attempts, 1 to 1000."),
    ] = 20,
    json: Json = False,
) -> None:
    """The newest audited attempts, one line each, the newest last."""
    from bot.cli import audit

    _run_alone(lambda settings, io: audit.tail(settings, io, count), json=json)


@audit.command("verify")
def audit_verify(json: Json = False) -> None:
    """Walk the hash chain: exit 0 when intact, 8 at a broken link."""
    from bot.cli import audit

    _run_alone(audit.verify, json=json)


@config.command("check")
def config_check(json: Json = False) -> None:
    """Validate the settings and environments file, then probe every environment at once.

    One row per environment: PROD marker, doctor's verdict, admin API reachable, server version,
    API key count; no secret is printed. Exits 0 when every admin API answers, 5 when one does
    not, 2 when the configuration is invalid (the message names the file, line and key).
    """
    from bot.cli import config_check

    _run_alone(config_check.check, json=json)


@app.command()
def serve() -> None:
    """Serve the HTTP routes (and Slack, when configured) until Ctrl-C."""

    def body() -> int:
        import asyncio

        from bot.serve import serve as serve_forever

        asyncio.run(serve_forever(_settings(logging.INFO)))
        return ExitCode.OK

    raise typer.Exit(_guarded(body, _io()))


@app.command()
def demo(
    port: Annotated[
        int | None,
        typer.Option(
            "--port", metavar="N", min=1, max=65535, help="HTTP port. Default: PORT or 3000."
        ),
    ] = None,
) -> None:
    """Run a local Restate and Redis with planted trouble, and serve."""
    from bot.demo import run_demo

    raise typer.Exit(_guarded(lambda: run_demo(port=port), _io()))


# --- running a command ----------------------------------------------------------------------------


def _write(route: Route, args: Mapping[str, object], reason: str | None, yes: bool) -> EnvCommand:
    from bot.cli import commands

    async def run(target: Target, io: Io) -> ExitCode:
        return await commands.write(target, io, route, args, reason=reason, yes=yes)

    return run


def _run_on_env(
    make: Callable[[EnvironmentSpec], EnvCommand], *, env: str | None, json: bool
) -> NoReturn:
    """Like :func:`_run`, on one environment: ``env`` (or the global ``--env`` or
    ``RESTATE_OPS_ENV``), else the default; an unknown name is bad input on ``--env``."""
    name = selected_environment(env)

    def on_env(_settings: Settings) -> Command:
        async def run(services: Services, io: Io) -> ExitCode:
            from bot.cli.commands import Target

            target = Target.of(services, name)
            return await make(target.env.spec)(target, io)

        return run

    _run(on_env, json=json)


def _run(make: Callable[[Settings], Command], *, json: bool) -> NoReturn:
    """Build the command from settings, run it over the composition root's clients, exit."""

    async def over_services(settings: Settings, io: Io) -> ExitCode:
        from bot.services import build_services

        command = make(settings)  # before any client: bad input fails first
        async with build_services(settings) as services:
            return await command(services, io)

    _run_alone(over_services, json=json)


def _run_alone(
    command: Callable[[Settings, Io], Coroutine[Any, Any, ExitCode]], *, json: bool
) -> NoReturn:
    """Load settings, run ``command`` (which opens what it needs), exit with its code."""
    io = _io(json)

    def body() -> int:
        import asyncio

        return asyncio.run(command(_settings(logging.WARNING), io))

    raise typer.Exit(_guarded(body, io))


def _settings(log_level: int) -> Settings:
    from bot.logs import configure_logging
    from bot.settings import load_settings

    settings = load_settings()
    configure_logging(settings, log_level)
    return settings


def _io(json: bool = False) -> Io:
    from bot.cli.terminal import Io, console

    return Io(console(sys.stdout), console(sys.stderr), sys.stdin, json=json)


def _guarded(body: Callable[[], int], io: Io) -> int:
    """Run ``body``; map configuration errors, operation errors and Ctrl-C to exit codes."""
    from bot.cli.exits import exit_code_for
    from bot.settings import SettingsError
    from core.errors import OpsError

    try:
        return body()
    except SettingsError as exc:
        _report_configuration(str(exc), io)
        return ExitCode.BAD_INPUT
    except OpsError as exc:
        _report(exc, io)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        io.note("interrupted")
        return ExitCode.INTERRUPTED


def _report_configuration(message: str, io: Io) -> None:
    from rich.text import Text

    text = Text("configuration error", style="red")
    text.append(f":\n{message}")
    io.note(text)


def _report(error: OpsError, io: Io) -> None:
    if io.json:
        io.dump(error.to_body())
    else:
        from bot.cli.render import error_view

        io.note(error_view(error))


def run(argv: Sequence[str] | None = None) -> int:
    """Parse and run; return the exit code (see ``bot.cli.exits``) instead of exiting."""
    try:
        app(args=None if argv is None else list(argv), prog_name="restate-ops")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return ExitCode.OK


def main() -> None:
    """Console-script entry point of ``restate-ops`` (and of ``python -m bot``)."""
    sys.exit(run())
