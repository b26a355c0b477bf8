"""``serve`` in the test's event loop, and waiting for it to stop: a hang fails with every task's
stack instead of holding CI until its own timeout."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bot.serve import serve
from bot.settings import Settings

#: Far beyond a clean stop (uvicorn's graceful window is 15 s), well within CI's patience.
STOP_WITHIN_S = 60.0
START_WITHIN_S = 30.0


@dataclass(frozen=True)
class Served:
    url: str
    #: Set it to begin the stop inside the block; leaving the block sets it anyway.
    stop: asyncio.Event
    task: asyncio.Task[None]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    """``serve`` until the block ends (then awaited, by :func:`stopped`); the URL once bound."""
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, on_ready=ready.set_result))
    waiting: set[asyncio.Future[Any]] = {task, ready}
    await asyncio.wait(waiting, timeout=START_WITHIN_S, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        task.cancel()
        raise RuntimeError(f"serve did not start: {task.exception() if task.done() else task}")
    try:
        yield Served(ready.result(), stop, task)
    finally:
        stop.set()
        await stopped(task, "serve")


async def stopped(task: asyncio.Task[Any], what: str, within_s: float = STOP_WITHIN_S) -> None:
    """Await ``task`` (re-raising its error); fail with the stacks if it runs past ``within_s``."""
    done, _ = await asyncio.wait({task}, timeout=within_s)
    if not done:
        stacks = io.StringIO()
        for running in asyncio.all_tasks():
            if running is not asyncio.current_task():
                running.print_stack(limit=20, file=stacks)
        task.cancel()
        pytest.fail(f"{what} did not stop within {within_s:g} s; tasks:\n{stacks.getvalue()}")
    await task
