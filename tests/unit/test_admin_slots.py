"""The admin client bounds its own concurrency and names a wedged connection pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2
import pytest

from core.errors import AdminUnreachable
from core.restate.client import RestateAdminClient

ADMIN_URL = "http://admin.test:9070"


class HeldTransport(httpx2.AsyncBaseTransport):
    """Answers only when released (ignoring timeouts, like a wedged connection); counts peaks."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.peak = 0
        self.entered = asyncio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.entered.set()
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return httpx2.Response(200)


async def poll(condition_met: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``condition_met()`` holds (bounded, never a fixed sleep)."""
    for _ in range(2000):
        if condition_met():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


async def test_requests_beyond_the_slots_wait_their_turn_and_all_finish() -> None:
    """Twenty concurrent calls with four slots: never more than four reach the transport."""
    transport = HeldTransport()
    async with RestateAdminClient(ADMIN_URL, transport=transport, max_concurrency=4) as admin:
        calls = [asyncio.create_task(admin.health()) for _ in range(20)]
        await poll(lambda: admin.pool_status().waiting == 16, "16 calls waiting for a slot")
        transport.release.set()
        await asyncio.gather(*calls)
        status = admin.pool_status()

    assert (transport.peak, status.in_flight, status.waiting, status.problem) == (4, 0, 0, None)


async def test_cancelling_queued_calls_leaves_no_slot_behind() -> None:
    """Calls cancelled while waiting for a slot cost nothing: the next call still gets through."""
    transport = HeldTransport()
    async with RestateAdminClient(ADMIN_URL, transport=transport, max_concurrency=2) as admin:
        calls = [asyncio.create_task(admin.health()) for _ in range(10)]
        await poll(lambda: admin.pool_status().waiting == 8, "8 calls waiting for a slot")
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        transport.release.set()
        await admin.health()
        status = admin.pool_status()

    assert (status.in_flight, status.waiting, status.problem) == (0, 0, None)


async def test_a_slot_held_past_its_timeouts_makes_the_client_not_ready() -> None:
    """A request stuck far beyond its timeout is reported as a wedged pool by ready()."""
    transport = HeldTransport()
    async with RestateAdminClient(
        ADMIN_URL, transport=transport, timeout=0.01, wedged_grace_s=0.0
    ) as admin:
        stuck = asyncio.create_task(admin.health())
        await poll(lambda: admin.pool_status().problem is not None, "the wedge is noticed")
        with pytest.raises(AdminUnreachable) as caught:
            await admin.ready()
        transport.release.set()
        await stuck
        recovered = admin.pool_status().problem

    assert ("wedged" in caught.value.message, recovered) == (True, None)


async def test_a_pool_timeout_is_remembered_as_leaked_connections() -> None:
    """httpx2 running out of pool connections despite the slots means a leak: not ready."""

    def exhausted(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.PoolTimeout("no connection available (fake)", request=request)

    async with RestateAdminClient(ADMIN_URL, transport=httpx2.MockTransport(exhausted)) as admin:
        with pytest.raises(AdminUnreachable):
            await admin.health()
        problem = admin.pool_status().problem

    assert "leaked" in (problem or "")


async def test_a_view_with_another_timeout_shares_slots_and_cached_version() -> None:
    """with_timeout() changes only the timeout: the view uses the same slots and cache."""
    calls = 0

    def answer(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(200, json={"version": "1.7.12"})

    async with RestateAdminClient(ADMIN_URL, transport=httpx2.MockTransport(answer)) as admin:
        view = admin.with_timeout(0.5)
        await view.version()
        await admin.version()

    assert (calls, view.timeout, admin.timeout, view.pool_status().slots) == (1, 0.5, 10.0, 8)
