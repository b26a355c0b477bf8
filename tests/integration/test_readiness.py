"""/readyz fails while the admin connection pool is wedged, and recovers with it (issue 13)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import httpx2
import pytest

from bot.http import build_http_app
from bot.services import Services
from bot.settings import load_settings
from core.audit.store import RedisAuditLog, audit_redis_client
from core.environments import (
    DEFAULT_ENVIRONMENT,
    Environment,
    Environments,
    EnvironmentSpec,
)
from core.operations import Operations
from core.pending import PendingActions
from core.restate.client import RestateAdminClient
from core.triage.service import Triage
from core.triage.store import BulkActionStore

pytestmark = pytest.mark.integration

ADMIN_URL = "http://admin.test:9070"


class WedgingTransport(httpx2.AsyncBaseTransport):
    """Answers /health at once; holds every other request, ignoring timeouts, until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path != "/health":
            await self.release.wait()
        return httpx2.Response(200, json={"deployments": []})


@pytest.fixture
async def bot(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, RestateAdminClient, WedgingTransport]]:
    transport = WedgingTransport()
    redis = audit_redis_client(redis_url)
    admin = RestateAdminClient(ADMIN_URL, transport=transport, timeout=0.01, wedged_grace_s=0.0)
    audit = RedisAuditLog(redis, f"{redis_prefix}audit")
    env = Environment(
        spec=EnvironmentSpec(DEFAULT_ENVIRONMENT, ADMIN_URL),
        admin=admin,
        ingress=None,
        operations=Operations(admin=admin, ingress=None, audit=audit),
        triage=Triage(admin=admin, audit=audit, store=BulkActionStore(redis)),
    )
    services = Services(
        settings=load_settings(restate_admin_url=ADMIN_URL, redis_url=redis_url),
        redis=redis,
        audit=audit,
        pending=PendingActions(redis, ttl=timedelta(minutes=1)),
        environments=Environments([env], DEFAULT_ENVIRONMENT),
    )
    app = build_http_app(services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
        ) as http:
            yield http, admin, transport
    finally:
        transport.release.set()
        await admin.aclose()
        await redis.aclose()


async def test_readyz_is_503_while_the_admin_pool_is_wedged_and_200_after(
    bot: tuple[httpx.AsyncClient, RestateAdminClient, WedgingTransport],
) -> None:
    """A call stuck far past its timeout makes /readyz name the wedge; its end clears it."""
    http, admin, transport = bot
    before = await http.get("/readyz")
    stuck = asyncio.create_task(admin.list_deployments())
    for _ in range(2000):
        if admin.pool_status().problem is not None:
            break
        await asyncio.sleep(0.005)
    wedged = await http.get("/readyz")
    transport.release.set()
    await stuck
    after = await http.get("/readyz")

    assert (before.status_code, wedged.status_code, after.status_code) == (200, 503, 200)
    assert "wedged" in wedged.json()["checks"]["restateAdmin"]
