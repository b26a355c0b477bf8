"""Work a listener starts after its ``ack()``: off the acknowledgement's path, and tracked.

Slack waits at most 3 s for the acknowledgement, so a listener acks and hands everything else
(Redis, Restate, the Web API) to :meth:`Background.start`. The HTTP answer (or the Socket Mode
ack) goes back while the work runs; a failure of the work can no longer take the ack back.
``drain`` lets the owner wait for the work in flight before it closes the clients.

At most ``limit`` pieces of work run at once; the rest wait their turn (in order). A burst of
commands then costs each ack only its own parsing: 50 doctors at once would otherwise put
hundreds of concurrent requests into the Restate client's connection pool, whose bookkeeping
grows with the square of the requests waiting in it, and hold the event loop for 100s of ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from core.tasks import TaskSet

#: Enough for an incident channel's worth of operators at once; a burst beyond it queues instead
#: of thrashing. Kept generous: while Restate hangs, each doctor holds its slot for its probe
#: timeout, and queued replies wait for a slot.
DEFAULT_LIMIT = 16


class Background:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._tasks = TaskSet()
        self._slots = asyncio.Semaphore(limit)

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run ``work`` as its own task; it must answer its own errors (see ``handlers.errors``)."""
        self._tasks.start(self._in_turn(work), name=name)

    async def _in_turn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            async with self._slots:
                await work
        finally:
            work.close()  # never started (cancelled while waiting): no "never awaited" warning

    @property
    def running(self) -> int:
        return self._tasks.running

    async def drain(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the work in flight, then cancel what is left."""
        await self._tasks.drain(timeout_s)
