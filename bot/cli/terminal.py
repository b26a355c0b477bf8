"""Terminal output for the CLI: colours only on a TTY (and never with ``NO_COLOR``), plain tables,
and the yes/no confirmation that guards every write.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

_CODES = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1"}

#: Colour of each status word shown to operators (doctor components, outcomes, cleanup actions).
STATUS_COLOURS = {
    "ok": "green",
    "succeeded": "green",
    "kept": "green",
    "deleted": "green",
    "degraded": "yellow",
    "skipped": "yellow",
    "in-progress": "yellow",
    "unreachable": "red",
    "failed": "red",
    "denied": "red",
    "blocked": "red",
    "interrupted": "red",
}


def colour_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour on a TTY only; a non-empty ``NO_COLOR`` (no-color.org) or TERM=dumb disables it."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty: Callable[[], bool] | None = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True)
class Style:
    enabled: bool

    def paint(self, text: str, colour: str | None) -> str:
        if not self.enabled or colour is None:
            return text
        return f"\x1b[{_CODES[colour]}m{text}\x1b[0m"

    def status(self, word: str) -> str:
        return self.paint(word, STATUS_COLOURS.get(word.split(" ")[0]))

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")


Cell = str | tuple[str, str | None]  # plain text, or (text, colour)


def table(style: Style, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Left-aligned columns; widths are measured on the plain text, so colours do not skew them."""
    plain_rows = [[_text(cell) for cell in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in plain_rows)]) for i, header in enumerate(headers)
    ]
    lines = ["  ".join(style.bold(h.ljust(w)) for h, w in zip(headers, widths, strict=True))]
    for row in rows:
        cells = [
            style.paint(_text(cell), _colour(cell)) + " " * (width - len(_text(cell)))
            for cell, width in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(line.rstrip() for line in lines)


def _text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell[0]


def _colour(cell: Cell) -> str | None:
    return None if isinstance(cell, str) else cell[1]


async def confirm(question: str, stdin: TextIO, stderr: TextIO) -> bool:
    """Ask on stderr (stdout stays clean for ``--json``); only "y"/"yes" proceeds, EOF declines."""
    stderr.write(f"{question} [y/N] ")
    stderr.flush()
    # Read off the event loop: a person may take a while to answer.
    answer = await asyncio.to_thread(stdin.readline)
    if not answer:
        stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")
