"""One doctor run for everyone who asks at once: single flight, plus a readout younger than ~1 s.

Fifty operators pressing ``/restate doctor`` during an incident should cost Restate one doctor,
not fifty. :class:`SharedReadout` runs the probes in a task of its own; every caller that arrives
while it runs awaits the same task (shielded, so a caller that goes away cancels nothing), and a
caller arriving within ``max_age_s`` of its end gets the same readout. Each caller still records
its own audit attempt: sharing happens below ``Operations``' audit, never instead of it.

A write makes every readout taken before it worthless (the verify-after-write doctor must see
the change), so ``invalidate()`` starts a new generation: runs and readouts of an older
generation are never handed out again. The sharing is per process; across replicas a readout
may be up to ``max_age_s`` older than another replica's write, which doctor's ``checkedAt``
already states.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.models import DoctorReport

#: A readout this young is handed out again instead of probing Restate anew.
DEFAULT_MAX_AGE_S = 1.0


@dataclass(frozen=True)
class _Readout:
    report: DoctorReport
    generation: int
    finished: float


class SharedReadout:
    """Single-flight access to a doctor readout, with a short reuse window."""

    def __init__(
        self,
        run: Callable[[], Awaitable[DoctorReport]],
        *,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run = run
        self._max_age_s = max_age_s
        self._clock = clock
        self._generation = 0
        self._latest: _Readout | None = None
        self._running: asyncio.Task[DoctorReport] | None = None
        self._running_generation = -1
        self._runs = 0

    @property
    def runs(self) -> int:
        """How many doctor runs actually went to Restate (the rest were shared)."""
        return self._runs

    async def get(self) -> DoctorReport:
        """The readout of the run in flight, or of one that ended under ``max_age_s`` ago."""
        latest = self._latest
        if (
            latest is not None
            and latest.generation == self._generation
            and self._clock() - latest.finished < self._max_age_s
        ):
            return latest.report
        if self._running is None or self._running_generation != self._generation:
            self._running = asyncio.create_task(self._probe(self._generation), name="doctor")
            self._running_generation = self._generation
            self._running.add_done_callback(_retrieve)
        return await asyncio.shield(self._running)

    def invalidate(self) -> None:
        """Forget every readout and run so far: the next caller probes anew (after a write)."""
        self._generation += 1
        self._latest = None

    async def _probe(self, generation: int) -> DoctorReport:
        self._runs += 1
        try:
            report = await self._run()
        finally:
            if self._running_generation == generation:
                self._running = None
        if generation == self._generation:
            self._latest = _Readout(report, generation, self._clock())
        return report


def _retrieve(task: asyncio.Task[DoctorReport]) -> None:
    """Mark a failed run's error as seen: its callers got it, or all of them went away."""
    if not task.cancelled():
        task.exception()
