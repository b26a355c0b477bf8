"""The watcher of ``serve`` stops even when its cancellation is lost inside a check.

On Python 3.11 a Redis call can swallow a cancellation (``core.tasks``); this is what once kept
``serve`` from exiting. The fake check below loses the cancellation the way redis-py does.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from bot.watcher import run_watcher
from core.tasks import cancel_and_wait
from core.watch.engine import CheckResult, Watch


class LosesCancellation:
    """A watch whose check loses one cancellation, then completes normally."""

    def __init__(self) -> None:
        self.checks = 0
        self.releases = 0
        self.checking = asyncio.Event()

    async def check(self) -> CheckResult:
        self.checks += 1
        if self.checks == 2:
            self.checking.set()
            with contextlib.suppress(asyncio.CancelledError):  # lost: the check goes on
                await asyncio.Event().wait()
        return CheckResult(leader=True, seconds=0.0)

    async def release(self) -> None:
        self.releases += 1


async def halted_mid_check(watch: LosesCancellation) -> asyncio.Task[None]:
    """The watcher of ``watch``, halted (as ``serve`` does) while its check runs."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_watcher(cast(Watch, cast(Any, watch)), None, interval_s=0.0, stop=stop)
    )
    await watch.checking.wait()
    stop.set()
    return task


async def test_a_watcher_whose_cancellation_is_lost_mid_check_stops_once_halted() -> None:
    watch = LosesCancellation()
    task = await halted_mid_check(watch)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)  # a bound only: it ends in one loop turn
    assert task in done
    assert (watch.checks, watch.releases) == (2, 1)


class LosesAll(LosesCancellation):
    """Loses every cancellation (each check sleeps a little and carries on)."""

    async def check(self) -> CheckResult:
        self.checks += 1
        self.checking.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.01)
        return CheckResult(leader=True, seconds=0.0)


async def test_serve_stops_a_watcher_that_ignores_every_cancellation_by_halting_it() -> None:
    """Even if each cancellation were lost, the halt ends the loop after the check in flight."""
    watch = LosesAll()
    task = await halted_mid_check(watch)
    assert await cancel_and_wait([task], limit_s=5) == set()
    assert watch.releases == 1
