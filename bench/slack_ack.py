"""Benchmark: Slack's acknowledgement under load, on the real bot, real Restate and real Redis.

``restate-ops serve`` runs as its own process in Slack HTTP mode, against a real restate-server
and redis-server (``bot.devstack``) and the local fake Slack Web API. Rounds of 50 signed
``/restate doctor`` requests are sent at once; each request's latency runs from just before it
is sent to its HTTP answer (the ack). The doctors they start keep running meanwhile, as in
production; a round ends when all of them have posted. Prints p50/p99, the ratio of p99 to the
target and PASS or FAIL (exit 1). Slack's own deadline is 3 s.

    .venv/bin/python -m bench.slack_ack [--concurrency 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import statistics
import sys
import time
from urllib.parse import urlencode

import aiohttp

from bot.devstack import ManagedProcess, RedisServer, RestateServer, free_port
from tests.slack_fake import FakeSlack

TARGET_P99_S = 0.050
SIGNING = "bench-signing-" + "0123456789abcdef"
OPERATOR = "UBENCHOPERATOR"


class BotServer(ManagedProcess):
    """``python -m bot serve`` in Slack HTTP mode on a free port."""

    name = "restate-ops-serve"

    def __init__(self, *, admin_url: str, redis_url: str, slack_api_url: str) -> None:
        super().__init__()
        self.port = free_port()
        self._settings = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "RESTATE_ADMIN_URL": admin_url,
            "RESTATE_INGRESS_URL": "",
            "REDIS_URL": redis_url,
            "AUDIT_STREAM": "bench:audit",
            "SLACK_BOT_TOKEN": "xoxb-" + "bench-token",
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": slack_api_url,
            "OPERATOR_ALLOWLIST": OPERATOR,
        }

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def _argv(self) -> list[str]:
        return [sys.executable, "-m", "bot", "serve"]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RESTATE_"))}
        env.pop("SLACK_APP_TOKEN", None)
        return {**env, **self._settings, "PYTHONPATH": os.getcwd()}

    async def _is_ready(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False


def signed_command(response_url: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/restate",
            "text": "doctor",
            "team_id": "T0BENCH",
            "channel_id": "CBENCH",
            "user_id": OPERATOR,
            "user_name": "bench",
            "response_url": response_url,
        }
    ).encode()
    ts = str(int(time.time()))
    mac = hmac.new(SIGNING.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": "v0=" + mac.hexdigest(),
    }
    return body, headers


async def one_round(
    session: aiohttp.ClientSession, url: str, fake: FakeSlack, concurrency: int, tag: str
) -> list[float]:
    requests = [signed_command(fake.response_url(f"{tag}-{n}")) for n in range(concurrency)]
    start = asyncio.Event()

    async def send(body: bytes, headers: dict[str, str]) -> float:
        await start.wait()
        began = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            elapsed = time.perf_counter() - began
            if response.status != 200:
                raise RuntimeError(f"the ack answered HTTP {response.status}")
        return elapsed

    tasks = [asyncio.create_task(send(body, headers)) for body, headers in requests]
    await asyncio.sleep(0)  # every sender is waiting at the start line
    start.set()
    return list(await asyncio.gather(*tasks))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def main(concurrency: int, rounds: int) -> int:
    async with RestateServer() as restate, RedisServer() as redis, FakeSlack() as fake:
        bot = BotServer(
            admin_url=restate.admin_url, redis_url=redis.url, slack_api_url=fake.api_url
        )
        async with bot:
            # A fresh connection per request, as Slack's own deliveries mostly are.
            connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                latencies: list[float] = []
                answered: list[float] = []
                for number in range(rounds + 1):  # round 0 warms up (connections, auth.test)
                    tag = f"round{number}"
                    began = time.perf_counter()
                    measured = await one_round(session, bot.events_url, fake, concurrency, tag)
                    done = (number + 1) * concurrency
                    await fake.wait_for("chat.postMessage", count=done, timeout=300)
                    if number:
                        latencies += measured
                        answered.append(time.perf_counter() - began)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    ratio = p99 / TARGET_P99_S
    verdict = "PASS" if ratio <= 1 else "FAIL"
    print(f"requests           {len(latencies)} ({rounds} rounds x {concurrency} at once)")
    print(f"ack p50            {p50 * 1000:7.1f} ms")
    print(f"ack p99            {p99 * 1000:7.1f} ms   (max {max(latencies) * 1000:.1f} ms)")
    print(f"ack mean           {statistics.fmean(latencies) * 1000:7.1f} ms")
    readouts = statistics.median(answered) * 1000
    print(f"round done in      {readouts:7.1f} ms   (median: all {concurrency} readouts posted)")
    print(
        f"p99 / target       {ratio:7.2f}   (target p99 <= {TARGET_P99_S * 1000:.0f} ms) {verdict}"
    )
    return 0 if ratio <= 1 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Slack ack latency under concurrent commands")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.concurrency, options.rounds)))
