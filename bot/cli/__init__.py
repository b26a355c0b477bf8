"""The `restate-ops` command line: the same operations as Slack and HTTP, from a terminal."""

from bot.cli.main import main, run

__all__ = ["main", "run"]
