"""A watcher stopped the way ``serve`` stops it ends every time, on real Redis and Restate.

On Python 3.11 a cancellation that lands in a redis-py call can be lost (``core.tasks``); one
such loss once kept ``serve`` from exiting. Here the stop lands at seeded random points of the
watcher's checks, Redis round trips included; how often the race itself hits depends on timing
(none to a few in a hundred here), so ``tests/unit/test_watcher_stop.py`` loses the
cancellation on purpose to pin the behaviour down.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from bot.services import build_services
from bot.settings import load_settings
from bot.watcher import build_watch, run_watcher
from core.tasks import cancel_and_wait
from core.watch.lease import lease_key
from tests.integration.conftest import RegisteredWorkflowService, RestateStack

pytestmark = pytest.mark.integration

STOPS = 40


async def test_a_watcher_stopped_mid_check_always_ends_and_gives_its_lease_up(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> None:
    settings = load_settings(
        restate_admin_url=restate_stack.admin_url,
        restate_ingress_url=restate_stack.ingress_url,
        restate_service_url=workflow_service.url,
        redis_url=redis_url,
        audit_stream=f"{redis_prefix}audit",
        watch_prefix=f"{redis_prefix}watch:",
        watch_interval_s=0.01,
        watch_lease_s=5,
    )
    delays = random.Random(14)
    async with build_services(settings) as services:
        stuck: list[asyncio.Task[Any]] = []
        for n in range(STOPS):
            stop = asyncio.Event()
            watch = build_watch(services, None, owner=f"stop-{n}")
            task = asyncio.create_task(run_watcher(watch, None, interval_s=0.0, stop=stop))
            await asyncio.sleep(delays.uniform(0, 0.1))
            stop.set()
            stuck += await cancel_and_wait([task], limit_s=10)
            assert await services.redis.get(lease_key(f"{redis_prefix}watch:")) is None, n
    assert stuck == []
