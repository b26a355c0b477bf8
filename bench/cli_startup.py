"""Benchmark: how quickly `restate-ops` starts, against a bare Python interpreter.

Runs each measured command and ``python -c pass`` interleaved, ``--runs`` times each (default 9),
and prints the medians, the ratio to bare Python, and the target. Also prints the median cumulative
import time of our modules behind ``--help`` and behind a command that talks to Restate and
Redis (``python -X importtime``; only modules not already imported count). Exits 1 when
``--help`` misses its target.

    .venv/bin/python -m bench.cli_startup [--runs N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

#: restate-ops --help, whole process, wall time.
TARGET_HELP_S = 0.300

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "restate-ops --help": [sys.executable, "-m", "bot", "--help"],
    "restate-ops audit --help": [sys.executable, "-m", "bot", "audit", "--help"],
}
IMPORTS = {
    "--help (bot.cli.main)": "import bot.cli.main",
    "doctor and writes (bot.cli.commands)": "import bot.cli.main, bot.cli.commands",
    "audit tail and verify (bot.cli.audit)": "import bot.cli.main, bot.cli.audit",
}


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own commands
    return time.perf_counter() - start


def import_ms(statement: str, runs: int) -> float:
    """Median over ``runs`` of the cumulative import time of our modules (``-X importtime``)."""
    totals = []
    for _ in range(runs):
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-X", "importtime", "-c", statement],
            check=True,
            capture_output=True,
            text=True,
        )
        top_level = re.finditer(r"^import time:\s+\d+ \|\s+(\d+) \| (bot\S*)$", done.stderr, re.M)
        totals.append(sum(int(match.group(1)) for match in top_level) / 1000)
    return statistics.median(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs

    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # interleaved, so that load on the machine hits every command alike
        for name, command in COMMANDS.items():
            samples[name].append(wall_time(command))
    medians = {name: statistics.median(times) for name, times in samples.items()}
    bare = medians["python -c pass"]

    print(f"CLI start-up, medians of {runs} interleaved runs")
    for name, median in medians.items():
        print(f"  {name:<52} {median * 1000:7.1f} ms   {median / bare:5.1f}x bare python")
    for name, statement in IMPORTS.items():
        print(f"  imports for {name:<40} {import_ms(statement, runs):7.1f} ms")
    help_s = medians["restate-ops --help"]
    verdict = "PASS" if help_s <= TARGET_HELP_S else "FAIL"
    print(f"  target: --help under {TARGET_HELP_S * 1000:.0f} ms: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
