"""`restate-ops config check`: is the configuration valid, and does every environment answer?

The settings and the environments file (``RESTATE_OPS_CONFIG``, else the single-environment
variables as the environment ``default``) are validated first: a bad one is refused before any
probe with the message naming the file, the line and the key (exit 2). Then every environment
gets one doctor, all at once, and one row: its name, ``PROD`` when it is production, the verdict,
whether the admin API answered and the server's version. Exit 5 when an admin API is unreachable.

Nothing secret is printed: URLs show their user info as ``REDACTED`` and key lists as counts.
The probes are not audited (they change nothing and need no Redis, so the check also runs where
Redis is not reachable yet, e.g. before a deployment), like the watcher's own doctor runs.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.text import Text

from bot.cli.exits import ExitCode
from bot.cli.render import Cell, clip, environment_text, status, table
from bot.cli.terminal import Io
from bot.settings import Settings, environment_specs
from core.doctor import run_doctor
from core.environments import EnvironmentSpec, spec_summary
from core.models import DoctorReport
from core.operations import utc_now
from core.redact import redact_text
from core.restate.client import RestateAdminClient, RestateIngressClient

ERROR_CHARS = 80


@dataclass(frozen=True)
class Probe:
    """One environment's configuration and what its doctor found."""

    spec: EnvironmentSpec
    default: bool
    report: DoctorReport

    @property
    def reachable(self) -> bool:
        return self.report.admin.status != "unreachable"

    def to_json(self) -> dict[str, Any]:
        admin = self.report.admin
        return {
            **spec_summary(self.spec),
            "default": self.default,
            "verdict": self.report.verdict.status,
            "summary": self.report.verdict.summary,
            "adminReachable": self.reachable,
            "version": admin.version,
            "adminError": None if admin.error is None else redact_text(admin.error),
        }


async def probe(spec: EnvironmentSpec, *, default: bool) -> Probe:
    """One doctor against ``spec``'s servers, with clients of its own, closed after."""
    async with AsyncExitStack() as stack:
        admin = await stack.enter_async_context(RestateAdminClient(spec.admin_url))
        ingress = (
            await stack.enter_async_context(RestateIngressClient(spec.ingress_url))
            if spec.ingress_url
            else None
        )
        report = await run_doctor(admin, ingress, now=utc_now, probe_timeout_s=spec.probe_timeout_s)
    return Probe(spec, default, report)


async def check(settings: Settings, io: Io) -> ExitCode:
    """Validate (``SettingsError`` naming file, line and key), probe every environment, report."""
    specs, default = environment_specs(settings)
    probes = await asyncio.gather(*(probe(spec, default=spec.name == default) for spec in specs))
    source = str(settings.restate_ops_config) if settings.restate_ops_config else None
    if io.json:
        io.dump(
            {
                "config": source,
                "default": default,
                "environments": [found.to_json() for found in probes],
            }
        )
    else:
        io.result(_view(source, default, probes))
    return ExitCode.OK if all(found.reachable for found in probes) else ExitCode.UNREACHABLE


def _view(source: str | None, default: str, probes: list[Probe]) -> Group:
    where = source or "the single-environment variables (RESTATE_OPS_CONFIG is not set)"
    count = f"{len(probes)} environment{'' if len(probes) == 1 else 's'}"
    head = Text(f"{where}: valid · {count} · default {default}")
    rows: list[list[Cell]] = [
        [
            Text(found.spec.name + (" *" if found.default else "")),
            environment_text(found.spec) if found.spec.production else Text("-"),
            status(found.report.verdict.status),
            status("ok") if found.reachable else status("unreachable"),
            found.report.admin.version or "-",
            str(len(found.spec.api_keys.keys)),
            _detail(found),
        ]
        for found in probes
    ]
    headers = ["ENVIRONMENT", "PROD", "VERDICT", "ADMIN", "VERSION", "KEYS", "DETAIL"]
    return Group(head, table(headers, rows), Text("* the default environment", style="dim"))


def _detail(found: Probe) -> str:
    if not found.reachable and found.report.admin.error:
        return clip(redact_text(found.report.admin.error), ERROR_CHARS)
    return redact_text(found.spec.admin_url)
