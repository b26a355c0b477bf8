"""Stopping tasks for certain: a cancellation is a request, and on Python 3.11 it can be lost.

Python 3.11's ``asyncio.wait_for`` returns the inner result when the inner work finishes in the
same loop turn as the cancellation (CPython gh-86296, rewritten in 3.12), so the cancellation
vanishes. redis-py sends every command through ``wait_for`` when a socket timeout is set (ours
is), so a task cancelled during a Redis round trip can simply go on: measured, a loop of Redis
commands survives most single ``cancel()`` calls, and a watcher once kept ``serve`` from exiting.

So a loop that must end also watches a stop event (:func:`pause`), and whoever stops tasks
cancels again until they have ended (:func:`cancel_and_wait`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Coroutine, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a cancelled task may keep running before it is cancelled again.
RECANCEL_EVERY_S = 0.5
#: How long cancelled work may take to unwind at shutdown (its clean-up has its own timeouts).
UNWIND_S = 5.0


class TaskSet:
    """Work started off a request's path and kept until it ends, so shutdown can wait for it.

    The loop keeps only weak references to tasks; this set keeps them alive, logs a failure
    nobody awaited, and ``drain`` gives the work in flight its time before the clients close.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the work in flight, then cancel what is left."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        if late:
            log.warning("cancelling %d tasks still running at shutdown", len(late))
            await cancel_and_wait(late, limit_s=UNWIND_S)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]],
    *,
    limit_s: float | None = None,
    every_s: float = RECANCEL_EVERY_S,
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until each has ended, cancelling again any that goes on.

    Returns (and logs) the tasks still running after ``limit_s`` (never, without a limit), left
    behind so that shutdown ends. The outcome of
    each ended task is marked retrieved: the caller reads it with ``task.exception()`` if it
    cares, and an error raised while cancelling is not reported a second time at exit.
    """
    tasks = list(tasks)  # read twice below
    loop = asyncio.get_running_loop()
    deadline = None if limit_s is None else loop.time() + limit_s
    running = {task for task in tasks if not task.done()}
    rounds = 0
    while running:
        for task in running:
            task.cancel()
        rounds += 1
        wait_s = every_s if deadline is None else min(every_s, deadline - loop.time())
        _, running = await asyncio.wait(running, timeout=max(wait_s, 0))
        if not running or (deadline is not None and loop.time() >= deadline):
            break
        log.debug("cancelling %s again (round %d)", _task_names(running), rounds + 1)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()
    if running:
        log.error("%s did not stop when cancelled; leaving it behind", _task_names(running))
    return running


async def run_to_end(work: Awaitable[T]) -> T:
    """Await ``work`` to its end even if this task is cancelled meanwhile; the cancellation is
    raised once it has ended. For clean-up that must finish (giving a lease up): ``work`` bounds
    its own duration."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True
            continue
        break
    if cancelled:
        raise asyncio.CancelledError
    return result


async def pause(seconds: float, stop: asyncio.Event) -> bool:
    """Sleep ``seconds``, or less once ``stop`` is set; True when it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
    return stop.is_set()


def _task_names(tasks: Iterable[asyncio.Task[Any]]) -> str:
    """The tasks' names, for a log line."""
    return ", ".join(sorted(task.get_name() for task in tasks))
