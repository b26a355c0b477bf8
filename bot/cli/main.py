"""`restate-ops`: argument parsing and dispatch. Configuration comes from the environment (.env)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

from bot.cli import commands
from bot.cli.commands import Console
from bot.cli.exits import ExitCode, exit_code_for, exit_code_table
from bot.cli.render import error_text
from bot.cli.terminal import Style, colour_enabled
from bot.logs import configure_logging
from bot.services import Services, build_services
from bot.settings import Settings, SettingsError, load_settings
from core.errors import InvalidInput, OpsError

DESCRIPTION = """\
Doctor, guarded recovery and the audit trail for Restate, from a terminal.

Run `doctor` first, one write, then `doctor` again. Every write shows what it will change and asks
for confirmation (--yes skips the question). Every command is audited with the surface `cli` and
your OS user as the actor: the CLI is for operators who already hold the admin URL.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restate-ops",
        description=DESCRIPTION,
        epilog="exit codes:\n" + exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="serve the HTTP routes (and Slack) until Ctrl-C")

    demo = sub.add_parser("demo", help="run a local Restate, Redis and sample trouble, then serve")
    demo.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")

    doctor = sub.add_parser("doctor", help="read-only health readout and advice")
    _json_flag(doctor)

    redeploy = sub.add_parser("redeploy", help="force-redeploy: register the live service URL")
    redeploy.add_argument(
        "service_url",
        nargs="?",
        metavar="serviceUrl",
        help="the URL to register (default: RESTATE_SERVICE_URL)",
    )
    redeploy.add_argument(
        "--no-force", dest="force", action="store_false", help="send force=false to Restate"
    )
    _write_flags(redeploy)

    cleanup = sub.add_parser("cleanup", help="cleanup-stale-deployments: keep one deployment")
    cleanup.add_argument("service_url", metavar="serviceUrl", help="the deployment URL to keep")
    cleanup.add_argument(
        "--force-drain", action="store_true", help="also delete deployments still draining"
    )
    _write_flags(cleanup)

    recover = sub.add_parser("recover", help="recover-stuck-workflow: clear one failed key")
    recover.add_argument("service_name", metavar="serviceName")
    recover.add_argument("service_key", metavar="serviceKey")
    _write_flags(recover)

    audit = sub.add_parser("audit", help="read and check the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    tail = audit_sub.add_parser("tail", help="the newest attempts, one line each")
    tail.add_argument("count", nargs="?", type=_count, default=20, metavar="n")
    _json_flag(tail)
    verify = audit_sub.add_parser("verify", help="walk the hash chain; exit 8 when it is broken")
    _json_flag(verify)
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _write_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", help="why, recorded in the audit entry")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    _json_flag(parser)


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("n must be between 1 and 1000")
    return value


Command = Callable[[Services, Console], Awaitable[ExitCode]]


def _command(ns: argparse.Namespace, settings: Settings) -> Command:
    """The coroutine to run for the parsed arguments; raises InvalidInput for a missing URL."""
    if ns.command == "doctor":
        return commands.doctor
    if ns.command == "audit":
        if ns.audit_command == "tail":
            return lambda services, console: commands.audit_tail(services, console, ns.count)
        return commands.audit_verify
    route, args = _write_args(ns, settings)
    return lambda services, console: commands.write(
        services, console, route, args, reason=ns.reason, yes=ns.yes
    )


def _write_args(ns: argparse.Namespace, settings: Settings) -> tuple[Any, dict[str, Any]]:
    """The seed's request body (camelCase) for a write command."""
    if ns.command == "redeploy":
        url = ns.service_url or settings.restate_service_url
        if not url:
            raise InvalidInput("serviceUrl", "is required: pass it or set RESTATE_SERVICE_URL")
        return "force-redeploy", {"serviceUrl": url, "force": ns.force}
    if ns.command == "cleanup":
        args = {"serviceUrl": ns.service_url, "forceDrain": ns.force_drain}
        return "cleanup-stale-deployments", args
    return "recover-stuck-workflow", {"serviceName": ns.service_name, "serviceKey": ns.service_key}


async def _run(settings: Settings, command: Command, console: Console) -> ExitCode:
    async with build_services(settings) as services:
        return await command(services, console)


def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Parse, run, and return the exit code (see ``bot.cli.exits``)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    ns = build_parser().parse_args(argv)
    style = Style(colour_enabled(out))
    console = Console(out, err, stdin or sys.stdin, style, json=getattr(ns, "json", False))
    try:
        if ns.command == "demo":
            from bot.demo import run_demo  # the local stack is only needed here

            return run_demo(port=ns.port)
        settings = load_settings()
        configure_logging(settings, logging.INFO if ns.command == "serve" else logging.WARNING)
        if ns.command == "serve":
            from bot.serve import serve

            asyncio.run(serve(settings))
            return ExitCode.OK
        return asyncio.run(_run(settings, _command(ns, settings), console))
    except SettingsError as exc:
        err.write(f"{style.paint('configuration error', 'red')}:\n{exc}\n")
        return ExitCode.BAD_INPUT
    except OpsError as exc:
        _report(exc, console)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return ExitCode.INTERRUPTED


def _report(error: OpsError, console: Console) -> None:
    body: dict[str, Any] = error.to_body()
    if console.json:
        console.dump(body)
    else:
        console.note(error_text(error, console.style))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point of ``restate-ops``."""
    sys.exit(run(argv))
