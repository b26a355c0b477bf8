"""Waiting for a server task to stop in a test: a hang fails with every task's stack instead of
holding CI until its own timeout."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

#: Far beyond a clean stop (uvicorn's graceful window is 15 s), well within CI's patience.
STOP_WITHIN_S = 60.0


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
