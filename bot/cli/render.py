"""What the terminal shows, as rich renderables: the doctor verdict and tables, write outcomes and
errors. Pure: view data in, renderables out; rich fits them to the console's width.

Server-provided text (error messages, keys, URLs) always goes into ``Text``, never into markup.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot.cli.verdict import COLOURS, Verdict
from core.environments import EnvironmentSpec
from core.errors import OpsError
from core.models import (
    Advice,
    CleanupResponse,
    DoctorReport,
    ForceRedeployResponse,
    RecoverResponse,
)
from core.operations import DoctorResult, WriteResult
from core.redact import redact_text

ERROR_CHARS = 100
MAX_ROWS = 20

#: Colour of each status word shown to operators (doctor components, cleanup actions).
STATUS_COLOURS = {
    "ok": "green",
    "kept": "green",
    "deleted": "green",
    "degraded": "yellow",
    "skipped": "yellow",
    "backing-off": "yellow",
    "paused": "yellow",
    "unreachable": "red",
    "failed": "red",
}

Cell = str | Text


def clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def when(moment: object) -> str:
    """A moment as the operator guide writes it (``2026-05-09T10:07:19.000Z``); ``-`` if unknown.

    Takes the readout's aware datetimes as well as ISO strings.
    """
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(moment) if moment else "-"


def status(word: str) -> Text:
    return Text(word, style=STATUS_COLOURS.get(word, ""))


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
    """Borderless columns that shrink and fold to the console's width (long ids fold, not cut)."""
    grid = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", expand=False)
    for header in headers:
        grid.add_column(header, overflow="fold")
    for row in rows:
        # Redacted here, not only on the way out: a folded cell splits a URL over two lines.
        grid.add_row(*(cell if isinstance(cell, Text) else Text(redact_text(cell)) for cell in row))
    return grid


def titled(title: str, body: RenderableType) -> Group:
    return Group(Text(title, style="bold"), body)


# --- doctor -------------------------------------------------------------------------------------


def environment_text(env: EnvironmentSpec) -> Text:
    """How the terminal names an environment: ``PROD`` in bold red for production, else its name."""
    return Text(env.label, style="bold red" if env.production else "bold")


def verdict_line(verdict: Verdict, env: EnvironmentSpec | None = None) -> Text:
    """The first line of a readout: the verdict, then what is wrong (after the environment's name
    when several are configured)."""
    line = Text()
    if env is not None:
        line.append_text(environment_text(env))
        line.append(" · ")
    line.append(verdict.level.upper(), style=f"bold {COLOURS[verdict.level]}")
    line.append(f" · {verdict.summary}" if verdict.summary else " · every component ok")
    return line


def doctor_view(
    result: DoctorResult, verdict: Verdict, width: int, env: EnvironmentSpec | None = None
) -> list[RenderableType]:
    """The verdict line, the component table, the details an operator acts on, the advice.

    ``env``: the environment, named first and in each command to copy (several configured).
    """
    report = result.report
    parts: list[RenderableType] = [Group(verdict_line(verdict, env), _components(report))]
    parts += _deployments(report)
    parts += _failures(report)
    parts += _stuck(report)
    parts.append(advice_view(result.advice, width, env.name if env else None))
    footer = Text(f"checked {when(report.checked_at)} · request {result.request_id}", style="dim")
    if result.audit_error:
        footer.append(f"\nwarning: not audited: {result.audit_error}", style="yellow")
    parts.append(footer)
    return parts


def _ms(latency: int | None) -> str:
    return f"{latency} ms" if latency is not None else "-"


def _components(report: DoctorReport) -> Table:
    inv = report.invocations
    by_status = ", ".join(f"{name} {count}" for name, count in sorted(inv.by_status.items()))
    invocations = f"{len(inv.recent_failures)} recent failures, {len(inv.stuck)} stuck"
    rows: list[tuple[str, str, str, str, str | None]] = [
        ("ingress", report.ingress.status, _ms(report.ingress.latency_ms), "",
         report.ingress.error),
        ("admin", report.admin.status, _ms(report.admin.latency_ms),
         f"version {report.admin.version}" if report.admin.version else "", report.admin.error),
        ("deployments", report.deployments.status, "",
         _known(report.deployments.status, f"{len(report.deployments.items)} registered"),
         report.deployments.error),
        ("services", report.services.status, "",
         _known(report.services.status, f"{len(report.services.items)} registered"),
         report.services.error),
        ("invocations", inv.status, "",
         _known(inv.status, f"{invocations}; {by_status}" if by_status else invocations),
         inv.error),
    ]  # fmt: skip
    cells: list[list[Cell]] = [
        [name, status(state), latency, _detail(detail, error)]
        for name, state, latency, detail, error in rows
    ]
    return table(["COMPONENT", "STATUS", "LATENCY", "DETAIL"], cells)


def _known(state: str, counts: str) -> str:
    """Counts of a component that did not answer are unknown, never 0."""
    return "counts unknown" if state == "unreachable" else counts


def _detail(detail: str, error: str | None) -> str:
    if not error:
        return detail
    return f"{detail}; {clip(error, ERROR_CHARS)}" if detail else clip(error, ERROR_CHARS)


def _deployments(report: DoctorReport) -> list[RenderableType]:
    items = report.deployments.items
    if not items:
        return []
    rows: list[list[Cell]] = []
    for item in items[:MAX_ROWS]:
        state: str = item.drain_state
        if item.pinned_invocations:
            state += f", {item.pinned_invocations} pinned"
        if item.latest_for:
            state += f", latest for {len(item.latest_for)} services"
        rows.append([item.id, item.service_url, when(item.created_at), state])
    return [titled("Deployments", table(["ID", "SERVICE URL", "CREATED", "STATE"], rows))]


def _failures(report: DoctorReport) -> list[RenderableType]:
    items = report.invocations.recent_failures
    if not items:
        return []
    rows: list[list[Cell]] = [
        [
            f"{item.service_name}\n{item.service_key or '-'}",
            f"{item.id}\n{when(item.failed_at)}",
            clip(item.error_message or "", ERROR_CHARS),
        ]
        for item in items[:MAX_ROWS]
    ]
    headers = ["SERVICE / KEY", "INVOCATION / FAILED AT", "ERROR"]
    return [titled("Recent failures", table(headers, rows))]


def _stuck(report: DoctorReport) -> list[RenderableType]:
    items = report.invocations.stuck
    if not items:
        return []
    rows: list[list[Cell]] = [
        [
            f"{item.service_name}\n{item.service_key or '-'}",
            item.id,
            _retries(item.status, item.retry_count),
            clip(": ".join(p for p in (item.error_code, item.error_message) if p), ERROR_CHARS),
        ]
        for item in items[:MAX_ROWS]
    ]
    headers = ["SERVICE / KEY", "INVOCATION", "STATUS", "ERROR"]
    return [titled("Retrying or paused", table(headers, rows))]


def _retries(state: str, count: int | None) -> Text:
    text = status(state)
    if count is not None:
        text.append(f"\n{count} retries")
    return text


def advice_view(advice: list[Advice], width: int, env: str | None = None) -> RenderableType:
    """Numbered steps; wrapped lines hang under their step, commands are ready to copy (with
    ``--env`` when ``env`` is given, so a copied command acts where the readout came from)."""
    if not advice:
        return Text("Nothing to do: no advice for this readout.", style="green")
    steps = Table.grid(padding=(0, 1))
    steps.add_column(no_wrap=True)
    steps.add_column()
    indent = len(f"{len(advice)}.") + 1
    for number, item in enumerate(advice, start=1):
        lines: list[RenderableType] = [Text(item.title), *map(Text, item.preview.splitlines())]
        words = command_words(item, env)
        if words:
            lines += [
                Text(line, style="bold", no_wrap=True, overflow="ignore")
                for line in shell_lines(words, width - indent)
            ]
        steps.add_row(f"{number}.", Group(*lines))
    return titled("Next steps", steps)


def cli_command(advice: Advice, env: str | None = None) -> str | None:
    """The `restate-ops` command line that carries out a write advice, quoted for a shell."""
    words = command_words(advice, env)
    return shlex.join(words) if words else None


def command_words(advice: Advice, env: str | None = None) -> list[str] | None:
    """The unquoted words of :func:`cli_command` (``--env NAME`` first when ``env`` is given)."""
    args = advice.args
    if advice.route == "force-redeploy":
        words = ["redeploy", str(args.get("serviceUrl", ""))]
        words += [] if args.get("force", True) else ["--no-force"]
    elif advice.route == "cleanup-stale-deployments":
        words = ["cleanup", str(args.get("serviceUrl", ""))]
        words += ["--force-drain"] if args.get("forceDrain") else []
    elif advice.route == "recover-stuck-workflow":
        words = ["recover", str(args.get("serviceName", "")), str(args.get("serviceKey", ""))]
    else:
        return None
    return ["restate-ops", *(["--env", env] if env else []), *words]


def shell_lines(words: list[str], width: int) -> list[str]:
    """``$ cmd …`` split at words with `` \\`` continuations, so a copied command still runs.

    A line is longer than ``width`` only when one quoted word is.
    """
    quoted = [shlex.quote(word) for word in words]
    lines, current = [], "$ " + quoted[0]
    for word in quoted[1:]:
        if len(current) + 1 + len(word) + 2 <= width:
            current += " " + word
        else:
            lines.append(current + " \\")
            current = "    " + word
    return [*lines, current]


# --- writes and errors ----------------------------------------------------------------------------


def preview_view(advice: Advice, env: EnvironmentSpec | None = None) -> RenderableType:
    """The plan to confirm; ``env`` (several configured) is named in front of its title."""
    title = Text()
    if env is not None:
        title.append_text(environment_text(env))
        title.append(" · ")
    title.append(advice.title, style="bold")
    return Group(title, Text(advice.preview))


def write_view(
    result: WriteResult, args: Mapping[str, Any], env: EnvironmentSpec | None = None
) -> RenderableType:
    """The outcome; ``env`` (several configured) is named in front of its first line."""
    response = result.response
    lines: list[RenderableType]
    if isinstance(response, ForceRedeployResponse):
        lines = [_done(f"registered {args.get('serviceUrl')} as {response.deployment_id}.")]
    elif isinstance(response, CleanupResponse):
        lines = [_done("cleanup acknowledged.")]
        if response.report:
            rows: list[list[Cell]] = [
                [
                    item.id,
                    item.service_url,
                    status(item.action),
                    clip(item.error or item.reason or "", ERROR_CHARS),
                ]
                for item in response.report
            ]
            lines.append(table(["ID", "SERVICE URL", "ACTION", "WHY"], rows))
    else:
        lines = _recover_lines(response, args)
    head = lines[0]
    if env is not None and isinstance(head, Text):  # always: _done's line
        lines[0] = Text.assemble(environment_text(env), " · ", head)
    if not result.audit_complete:
        lines.append(Text("warning: the audit finish entry was not stored", style="yellow"))
    doctor = "restate-ops doctor" if env is None else f"restate-ops --env {env.name} doctor"
    lines.append(Text(f"request {result.request_id} · run `{doctor}` to verify", style="dim"))
    return Group(*lines)


def _done(text: str) -> Text:
    line = Text("done", style="green")
    line.append(f": {text}")
    return line


def _recover_lines(response: RecoverResponse, args: Mapping[str, Any]) -> list[RenderableType]:
    key = f"{args.get('serviceName')}/{args.get('serviceKey')}"
    lines: list[RenderableType] = [
        _done(f"{key} is ready for a new run."),
        Text(f"killed: {', '.join(response.killed) or 'none'}"),
        Text(f"purged: {', '.join(response.purged) or 'none'}"),
        Text(f"state cleared: {'yes' if response.state_cleared else 'no'}"),
    ]
    lines += [Text(f"warning: {warning}", style="yellow") for warning in response.warnings]
    return lines


def error_view(error: OpsError) -> RenderableType:
    """The code and message, the structured data that matters, what to do next, the request id."""
    head = Text("error", style="red")
    head.append(f": {error.code}: {error.message}")
    lines: list[RenderableType] = [head]
    if error.data.get("reason"):
        lines.append(Text(f"reason: {error.data['reason']}"))
    if error.data.get("invocationIds"):
        lines.append(Text(f"invocations: {', '.join(map(str, error.data['invocationIds']))}"))
    lines.append(Text(f"next: {getattr(error, 'advice', None) or error.next_step}"))
    if error.request_id:
        lines.append(Text(f"request {error.request_id}", style="dim"))
    return Group(*lines)
