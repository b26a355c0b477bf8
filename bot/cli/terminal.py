"""The terminal side of the CLI: rich consoles (colour only on a TTY, never with ``NO_COLOR``;
the terminal's width, ``COLUMNS`` when set) and the yes/no question that guards every write.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import IO, Any, TextIO

from rich.console import Console, RenderableType
from rich.text import Text

from core.redact import redact_text

#: Blanks at the end of a line, possibly inside the styles that close it.
_TRAILING_BLANKS = re.compile(r"[ ]+((?:\x1b\[[0-9;]*m)*)$")


def console(file: IO[str], *, width: int | None = None) -> Console:
    """A console on ``file``. rich decides colour: a TTY, no ``NO_COLOR``, no ``TERM=dumb``."""
    # highlight=False: no guessing colours for numbers and URLs in server-provided text.
    return Console(file=file, width=width, highlight=False, emoji=False, soft_wrap=False)


@dataclass(frozen=True)
class Io:
    """Where a command writes. Results go to ``out``; previews, prompts and errors to ``err``."""

    out: Console
    err: Console
    stdin: TextIO
    json: bool = False

    def result(self, *parts: RenderableType) -> None:
        """Readouts and outcomes: tables and text fitted to the width."""
        _print(self.out, parts)

    def note(self, *parts: RenderableType) -> None:
        """Previews, prompts and errors: long lines are left whole for logs and grep."""
        _print(self.err, parts, soft_wrap=True)

    def line(self, text: str) -> None:
        """One line for scripts (audit tail): never wrapped, whatever the width."""
        self.out.print(Text(text), soft_wrap=True)

    def dump(self, value: Any) -> None:
        """JSON on stdout exactly as before, untouched by rich's wrapping."""
        self.out.file.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _print(target: Console, parts: tuple[RenderableType, ...], *, soft_wrap: bool = False) -> None:
    with target.capture() as captured:
        for number, part in enumerate(parts):
            if number:
                target.print()
            # A plain string is text, never rich markup: server-provided words may contain "[".
            text = Text(redact_text(part)) if isinstance(part, str) else part  # may fold
            target.print(text, soft_wrap=soft_wrap)
    # Tables pad every cell; trailing blanks only get in the way of copying and diffing.
    lines = captured.get().splitlines()
    target.file.write("".join(_TRAILING_BLANKS.sub(r"\1", line) + "\n" for line in lines))
    target.file.flush()


async def confirm(question: str, stdin: TextIO, err: Console) -> bool:
    """Ask on stderr (stdout stays clean for ``--json``); only "y"/"yes" proceeds, EOF declines."""
    err.print(Text(f"{question} [y/N] "), end="")
    err.file.flush()
    # Read off the event loop: a person may take a while to answer.
    answer = await asyncio.to_thread(stdin.readline)
    if not answer:
        err.print()
    return answer.strip().lower() in ("y", "yes")
