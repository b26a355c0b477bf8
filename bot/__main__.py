"""Entry point of the `restate-ops` console script (and of `python -m bot`)."""

from __future__ import annotations

from bot.cli import main

if __name__ == "__main__":
    main()
