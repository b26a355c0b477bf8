"""A watch readout cancelled the moment its probes are scheduled leaves nothing un-awaited.

``serve``'s shutdown cancels a check at any point; cancelled before its probe tasks first ran,
a probe handed a ready-made coroutine never awaits it ("coroutine … was never awaited").
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from datetime import UTC, datetime, timedelta

import pytest

from core.watch.probe import read_watch
from tests.unit.admin_fakes import FakeRestate

NOW = datetime(2026, 5, 9, 10, 10, tzinfo=UTC)


async def test_a_readout_cancelled_before_its_probes_start_leaves_no_coroutine_unawaited() -> None:
    async with FakeRestate().admin() as admin:
        task = asyncio.create_task(
            read_watch(
                admin,
                None,
                now=NOW,
                failure_window=timedelta(minutes=5),
                backing_off=timedelta(minutes=5),
                probe_timeout_s=1.0,
            )
        )
        await asyncio.sleep(0)  # read_watch reaches its gather: probe tasks made, none started
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()  # an un-awaited coroutine warns when it is collected
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
