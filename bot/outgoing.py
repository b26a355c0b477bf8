"""Text that leaves the process through a stream: URL user info and tokens redacted on the way.

Restate stores a deployment URI with its password and echoes it in its error messages, and an
operator may type one (``restate-ops cleanup http://admin:pw@host``). The console script puts
``sys.stdout`` and ``sys.stderr`` behind :class:`RedactingWriter` before anything runs, so a
readout, a preview, a JSON dump, an error, an argument error and even a traceback leave without
it, and no command has to remember to redact. (Log records have their own filter: ``bot.logs``.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO, cast

from core.redact import encodable, redact_text


class RedactingWriter:
    """A text stream that writes to ``stream`` what :func:`core.redact.redact_text` leaves of
    each piece of text, lone surrogates written out (a terminal cannot show them).

    Redaction works per ``write`` call: callers write whole texts (a line, a JSON document), not a
    URL in pieces. Everything else (``isatty``, ``encoding``, ``fileno`` ...) is the stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(encodable(redact_text(text)))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def redacting(stream: TextIO) -> TextIO:
    """``stream`` behind a :class:`RedactingWriter` (once: an already wrapped stream is kept)."""
    if isinstance(stream, RedactingWriter):
        return stream
    return cast(TextIO, RedactingWriter(stream))


def redact_standard_streams() -> None:
    """Put ``sys.stdout`` and ``sys.stderr`` behind redaction, for the rest of the process."""
    if sys.stdout is not None:
        sys.stdout = redacting(sys.stdout)
    if sys.stderr is not None:
        sys.stderr = redacting(sys.stderr)
