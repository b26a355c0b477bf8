"""Entry point of the `restate-ops` console script."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("restate-ops: not wired yet")


if __name__ == "__main__":
    main()
