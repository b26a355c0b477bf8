"""Text that leaves the process through a stream: URL user info and tokens redacted on the way.

Restate stores a deployment URI with its password and echoes it in its error messages, and an
operator may type one (``restate-ops cleanup http://admin:pw@host``). Whatever the CLI prints, a
readout, a preview, a JSON dump or an error, goes through :class:`RedactingWriter`, so no command
has to remember to redact. (Log records have their own filter, see ``bot.logs``.)
"""

from __future__ import annotations

import io
from typing import TextIO, cast

from core.redact import encodable, redact_text


class RedactingWriter(io.TextIOBase):
    """Writes to ``stream`` what :func:`core.redact.redact_text` leaves of each piece of text,
    lone surrogates written out (:func:`core.redact.encodable`): a terminal cannot show them.

    Redaction works per ``write`` call: callers write whole texts (a line, a JSON document), never
    a URL in pieces.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(encodable(redact_text(text)))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True


def redacting(stream: TextIO) -> TextIO:
    """``stream`` behind a :class:`RedactingWriter` (once: an already wrapped stream is kept)."""
    if isinstance(stream, RedactingWriter):
        return stream
    return cast(TextIO, RedactingWriter(stream))
