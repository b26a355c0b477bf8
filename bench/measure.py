"""Timing helpers: medians, percentiles, interleaved pairs, and a process's CPU time and RSS."""

from __future__ import annotations

import os
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), nearest rank: p99 of 50 samples is the largest."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Pair:
    """Medians of two interleaved series (a, b, a, b, ...) and their ratio a/b."""

    a: float
    b: float
    samples: int

    @property
    def ratio(self) -> float:
        return self.a / self.b if self.b else float("inf")


async def interleaved(
    a: Callable[[], Awaitable[float]], b: Callable[[], Awaitable[float]], samples: int
) -> Pair:
    """Run ``a`` and ``b`` alternately ``samples`` times each; each returns its own seconds."""
    first: list[float] = []
    second: list[float] = []
    for _ in range(samples):
        first.append(await a())
        second.append(await b())
    return Pair(median(first), median(second), samples)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of process ``pid`` in MB (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
