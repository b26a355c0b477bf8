"""Two ``restate-ops serve`` replicas on one Redis: one watches, one alert; ``/metrics`` scraped.

Each replica is the real ``serve`` (uvicorn, the Slack HTTP endpoint, the watcher task) with a
short interval, against an isolated Restate server and a fake Slack.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.devstack import WorkflowIngress
from bot.devstack.processes import free_ports
from bot.serve import serve
from bot.settings import load_settings
from core.audit_store import audit_redis_client
from core.restate.client import RestateAdminClient
from core.watch.store import WatchStore
from tests.integration.conftest import StartRestate, StartWorkflowService, wait_for_status
from tests.integration.slack_harness import CHANNEL, OPERATOR, SIGNING_SECRET
from tests.slack_fake import FakeSlack, SlackCall

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
HEADLINE = f"New terminal failures: {RECOVERY}"
API_KEY = "sk_test_operator_0123456789"


@dataclass
class Replica:
    url: str
    stop: asyncio.Event
    task: asyncio.Task[None]


@asynccontextmanager
async def replica(**settings: object) -> AsyncIterator[Replica]:
    """``serve`` in this event loop until the test stops it (or leaves the block)."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(load_settings(**settings), stop=stop, on_ready=ready.set_result)
    )
    try:
        async with asyncio.timeout(20):
            url = await asyncio.shield(ready)
        yield Replica(url, stop, task)
    finally:
        stop.set()
        await task


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, parsed with prometheus_client."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def scrape(http: httpx.AsyncClient, replica: Replica) -> str:
    response = await http.get(f"{replica.url}/metrics")
    assert response.status_code == 200
    return response.text


async def checks_after(store: WatchStore, count: int) -> None:
    """Wait until the leaders have completed ``count`` checks in all (polled, bounded)."""
    async with asyncio.timeout(20):
        while (await store.checks())[0] < count:  # noqa: ASYNC110 - the count lives in Redis
            await asyncio.sleep(0.05)


def posted(fake: FakeSlack) -> list[SlackCall]:
    return fake.calls_to(
        "chat.postMessage", lambda c: not c.params.get("thread_ts") and HEADLINE in c.text
    )


async def test_two_serve_replicas_post_one_alert_and_hand_over_on_stop(
    fresh_restate: StartRestate,
    start_workflow_service: StartWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """Exactly one replica leads; one alert is posted; when the leader stops the other takes
    over without posting it again; /metrics shows checks, the open alert and operations."""
    server = await fresh_restate()
    service = await start_workflow_service()
    async with RestateAdminClient(server.admin_url) as admin:
        await admin.register_deployment(service.url, force=True)
    redis = audit_redis_client(redis_url)
    store = WatchStore(redis, prefix=f"{redis_prefix}watch:")
    async with FakeSlack() as fake, httpx.AsyncClient(timeout=10, trust_env=False) as http:
        common = {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_app_token": None,
            "slack_api_url": fake.api_url,
            "operator_allowlist": OPERATOR,
            "operator_api_keys": f"ops={API_KEY}",
            "restate_admin_url": server.admin_url,
            "restate_ingress_url": server.ingress_url,
            "restate_service_url": service.url,
            "redis_url": redis_url,
            "audit_stream": f"{redis_prefix}audit",
            "watch_prefix": f"{redis_prefix}watch:",
            "watch_interval_s": 0.3,
            "watch_lease_s": 3.0,
            "host": "127.0.0.1",
        }
        ports = free_ports(2)
        try:
            await store.subscribe(CHANNEL)
            async with (
                replica(**common, port=ports[0]) as one,
                replica(**common, port=ports[1]) as two,
            ):
                async with WorkflowIngress(server.ingress_url) as ingress:
                    await ingress.submit(RECOVERY, "served-failure", {"mode": "fail"})
                async with RestateAdminClient(server.admin_url) as admin:
                    await wait_for_status(admin, RECOVERY, "served-failure", "completed")
                await fake.wait_for(
                    "chat.postMessage",
                    lambda c: HEADLINE in c.text and not c.params.get("thread_ts"),
                )
                await checks_after(store, (await store.checks())[0] + 4)
                assert len(posted(fake)) == 1

                doctor = await http.post(
                    f"{one.url}/api/v2/admin/operator/restate/doctor",
                    headers={"X-Api-Key": API_KEY},
                    json={},
                )
                assert doctor.status_code == 200
                texts = [await scrape(http, one), await scrape(http, two)]
                leaders = [metric(t, "restate_ops_watch_leader") or 0.0 for t in texts]
                assert sorted(leaders) == [0.0, 1.0]
                leader_text = texts[leaders.index(1.0)]
                assert metric(leader_text, "restate_ops_alerts_open", rule="failures") == 1.0
                assert metric(leader_text, "restate_ops_invocations", status="completed") == 1.0
                assert (
                    metric(
                        leader_text, "restate_ops_component_status", component="admin", status="ok"
                    )
                    == 1.0
                )
                assert (
                    metric(leader_text, "restate_ops_watch_check_duration_seconds_count") or 0
                ) > 0
                assert (
                    metric(
                        texts[0],
                        "restate_ops_operations_total",
                        route="doctor",
                        outcome="succeeded",
                    )
                    == 1.0
                )
                assert (
                    metric(
                        texts[0],
                        "restate_ops_operation_duration_seconds_count",
                        route="doctor",
                        outcome="succeeded",
                    )
                    == 1.0
                )

                (leader, follower) = (one, two) if leaders[0] == 1.0 else (two, one)
                leader.stop.set()
                await leader.task
                async with asyncio.timeout(20):
                    while metric(await scrape(http, follower), "restate_ops_watch_leader") != 1.0:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                await checks_after(store, (await store.checks())[0] + 3)
                assert len(posted(fake)) == 1
        finally:
            await redis.aclose()
