"""The benchmark's table: one row per figure of issue 13, with its target and PASS/FAIL."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    target: str
    #: None for a row that is information only.
    passed: bool | None
    values: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def result(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "FAIL")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}"
    )


def render(rows: list[Row], header: str) -> str:
    widths = [
        max(len(r.figure) for r in rows),
        max(len(r.measured) for r in rows),
        max(len(r.target) for r in rows),
    ]
    lines = [header, ""]
    titles = ("figure", "measured", "target", "result")
    lines.append(
        f"{titles[0]:<{widths[0]}}  {titles[1]:<{widths[1]}}  {titles[2]:<{widths[2]}}  result"
    )
    for row in rows:
        lines.append(
            f"{row.figure:<{widths[0]}}  {row.measured:<{widths[1]}}  "
            f"{row.target:<{widths[2]}}  {row.result}"
        )
    notes = [f"- {row.figure}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def markdown(rows: list[Row]) -> str:
    out = ["| figure | measured | target | result |", "|---|---|---|---|"]
    out += [f"| {r.figure} | {r.measured} | {r.target} | {r.result} |" for r in rows]
    return "\n".join(out)


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **meta,
        "rows": [{**asdict(row), "result": row.result} for row in rows],
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
