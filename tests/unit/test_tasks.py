"""Stopping tasks for certain (``core.tasks``), with the Python 3.11 lost cancellation simulated.

A ``Stubborn`` task does what a task inside redis-py's ``wait_for`` does when the race hits: it
gets the CancelledError and carries on as if nothing happened.
"""

from __future__ import annotations

import asyncio

import pytest

from core.tasks import cancel_and_wait, pause, run_to_end


class Stubborn:
    """Work that loses its first ``swallow`` cancellations, then ends when cancelled."""

    def __init__(self, swallow: int) -> None:
        self.swallow = swallow
        self.cancels = 0
        self.finished = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.Event().wait()  # forever, unless cancelled
            except asyncio.CancelledError:
                self.cancels += 1
                if self.cancels > self.swallow:
                    raise


async def test_a_lost_cancellation_is_repeated_until_the_task_ends() -> None:
    stubborn = Stubborn(swallow=2)
    task = asyncio.create_task(stubborn.run())
    await asyncio.sleep(0)
    stuck = await cancel_and_wait([task], every_s=0.01)
    assert (stuck, task.cancelled(), stubborn.cancels) == (set(), True, 3)


async def test_one_cancel_is_enough_for_a_task_that_honours_it() -> None:
    stubborn = Stubborn(swallow=0)
    task = asyncio.create_task(stubborn.run())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == set()
    assert stubborn.cancels == 1


async def test_a_task_still_running_at_the_limit_is_returned_not_waited_for() -> None:
    stubborn = Stubborn(swallow=1_000_000)
    task = asyncio.create_task(stubborn.run(), name="stubborn")
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], limit_s=0.05, every_s=0.01) == {task}
    assert not task.done()
    assert stubborn.cancels >= 2
    stubborn.swallow = 0
    assert await cancel_and_wait([task]) == set()


async def test_an_error_raised_while_cancelling_is_kept_for_the_caller() -> None:
    async def fails_on_cancel() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("clean-up failed") from None

    task = asyncio.create_task(fails_on_cancel())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == set()
    assert str(task.exception()) == "clean-up failed"


async def test_run_to_end_finishes_the_work_and_raises_the_cancellation_after() -> None:
    release = asyncio.Event()
    released: list[str] = []

    async def give_lease_up() -> str:
        await release.wait()
        released.append("lease")
        return "released"

    async def shutting_down() -> str:
        return await run_to_end(give_lease_up())

    task = asyncio.create_task(shutting_down())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()  # twice: the clean-up still runs to its end
    await asyncio.sleep(0)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released == ["lease"]


async def test_run_to_end_returns_the_result_when_nothing_cancels_it() -> None:
    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    assert await run_to_end(work()) == 7


async def test_pause_ends_early_when_stopped_and_says_so() -> None:
    stop = asyncio.Event()
    assert await pause(0, stop) is False
    waiting = asyncio.create_task(pause(3600, stop))
    await asyncio.sleep(0)
    stop.set()
    assert await waiting is True
