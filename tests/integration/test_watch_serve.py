"""Two ``restate-ops serve`` replicas on one Redis: one watches, one alert; ``/metrics`` scraped.

One replica is a ``restate-ops serve`` process (so it can be killed with SIGKILL, leaving its
lease behind), the other is ``serve`` in the test's event loop; both have a short interval and
talk to an isolated Restate server and a fake Slack.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.devstack import WorkflowIngress
from bot.devstack.processes import free_ports
from bot.settings import load_settings
from core.audit.store import audit_redis_client
from core.restate.client import RestateAdminClient
from core.watch.store import WatchStore
from tests.integration.conftest import StartRestate, StartWorkflowService, wait_for_status
from tests.integration.slack_harness import CHANNEL, OPERATOR, SIGNING_SECRET
from tests.slack_fake import FakeSlack, SlackCall
from tests.stopping import Served, serving

pytestmark = pytest.mark.integration

RECOVERY = "IdentityRecoveryWorkflow"
HEADLINE = f"New terminal failures: {RECOVERY}"
API_KEY = "sk_test_operator_0123456789"


def replica(**settings: object) -> AbstractAsyncContextManager[Served]:
    """``serve`` in this event loop until the test stops it (or leaves the block)."""
    return serving(load_settings(**settings))


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, parsed with prometheus_client."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def scrape(http: httpx.AsyncClient, replica: Served) -> str:
    response = await http.get(f"{replica.url}/metrics")
    assert response.status_code == 200
    return response.text


async def leads(http: httpx.AsyncClient, replica: Served) -> bool:
    return metric(await scrape(http, replica), "restate_ops_watch_leader") == 1.0


async def checks_after(store: WatchStore, count: int) -> None:
    """Wait until the leaders have completed ``count`` checks in all (polled, bounded)."""
    async with asyncio.timeout(20):
        while (await store.checks())[0] < count:  # noqa: ASYNC110 - the count lives in Redis
            await asyncio.sleep(0.05)


def posted(fake: FakeSlack) -> list[SlackCall]:
    return fake.calls_to(
        "chat.postMessage", lambda c: not c.params.get("thread_ts") and HEADLINE in c.text
    )


@asynccontextmanager
async def process_replica(
    env: dict[str, str], http: httpx.AsyncClient, cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``restate-ops serve`` as a process, once its /healthz answers; killed on the way out."""
    with (cwd / "serve.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", env=env, cwd=cwd, stdout=log, stderr=log
        )
    try:
        url = f"http://{env['HOST']}:{env['PORT']}/healthz"
        async with asyncio.timeout(30):
            while True:
                try:
                    if (await http.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.returncode is None, (cwd / "serve.log").read_text()
                await asyncio.sleep(0.05)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_one_of_two_replicas_alerts_once_and_a_killed_leader_is_replaced(
    fresh_restate: StartRestate,
    start_workflow_service: StartWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    """Exactly one replica leads and one alert is posted; after SIGKILL of the leader the other
    takes over within one lease without posting it again; /metrics of both parse."""
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
            "slack_api_url": fake.api_url,
            "operator_allowlist": OPERATOR,
            "operator_api_keys": f"ops={API_KEY}",
            "restate_admin_url": server.admin_url,
            "restate_ingress_url": server.ingress_url,
            "restate_service_url": service.url,
            "redis_url": redis_url,
            "audit_stream": f"{redis_prefix}audit",
            "watch_prefix": f"{redis_prefix}watch:",
            "watch_interval_s": "0.3",
            "watch_lease_s": "5",
            "host": "127.0.0.1",
        }
        ports = free_ports(2)
        env = {k.upper(): v for k, v in common.items()}
        env.update(PATH=os.environ["PATH"], PORT=str(ports[0]))
        try:
            await store.subscribe(CHANNEL)
            async with process_replica(env, http, tmp_path) as killed:
                prefix = f"{socket.gethostname()}:{killed.pid}:"
                async with asyncio.timeout(20):
                    while not ((await store.checks())[2] or "").startswith(prefix):  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                async with replica(**common, port=ports[1]) as survivor:
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
                        f"{survivor.url}/api/v2/admin/operator/restate/doctor",
                        headers={"X-Api-Key": API_KEY},
                        json={},
                    )
                    assert doctor.status_code == 200
                    leading = await http.get(f"http://127.0.0.1:{ports[0]}/metrics")
                    standing_by = await scrape(http, survivor)
                    assert metric(leading.text, "restate_ops_watch_leader") == 1.0
                    assert metric(standing_by, "restate_ops_watch_leader") == 0.0
                    assert metric(leading.text, "restate_ops_alerts_open", rule="failures") == 1.0
                    assert (
                        metric(leading.text, "restate_ops_invocations", status="completed") == 1.0
                    )
                    ok = {"component": "admin", "status": "ok"}
                    assert metric(leading.text, "restate_ops_component_status", **ok) == 1.0
                    checks = metric(leading.text, "restate_ops_watch_check_duration_seconds_count")
                    assert (checks or 0) > 0
                    doctors = {"route": "doctor", "outcome": "succeeded"}
                    assert metric(standing_by, "restate_ops_operations_total", **doctors) == 1.0
                    timed = "restate_ops_operation_duration_seconds_count"
                    assert metric(standing_by, timed, **doctors) == 1.0

                    killed.send_signal(signal.SIGKILL)
                    await killed.wait()
                    async with asyncio.timeout(20):
                        while not await leads(http, survivor):  # noqa: ASYNC110 - lease in Redis
                            await asyncio.sleep(0.05)
                    await checks_after(store, (await store.checks())[0] + 3)
                    assert len(posted(fake)) == 1
                # A replica that stops gives its lease up: the next one need not wait for expiry.
                assert await redis.get(store.lease_key) is None
        finally:
            await redis.aclose()
