"""Entry point of the `restate-ops` console script (and of `python -m bot`).

Whatever the process prints leaves through redaction (``bot.outgoing``): a URL's password typed
as an argument or stored by Restate never reaches the terminal, a pipe or a log collector.
"""

from __future__ import annotations

from bot.cli import main as cli_main
from bot.outgoing import redact_standard_streams


def main() -> None:
    redact_standard_streams()
    cli_main()


if __name__ == "__main__":
    main()
