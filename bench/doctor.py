"""One doctor against its own probes, bursts of doctors, and serve's footprint.

Compared pairs run interleaved (a, b, a, b, ...) and report medians, so a busy neighbour on the
machine slows both sides alike. ``serve`` shares a readout younger than one second between
callers, so every "one doctor" sample waits until the previous readout has aged out: each one
is a real doctor run against Restate.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2

from bench.measure import cpu_seconds, median, peak_rss_mb, percentile
from bench.report import Row
from bench.serve import ServeProcess, unreachable_components
from bench.stack import BenchStack
from core.doctor import run_doctor
from core.restate.client import RestateAdminClient, RestateIngressClient

#: serve hands out a readout younger than this again
#: (bot.environment_wiring.READOUT_MAX_AGE_S + margin).
FRESH_AFTER_S = 1.1
BURST = 50


# --- what doctor sends, replayed by a bare client ----------------------------------------------


@dataclass(frozen=True)
class Probe:
    method: str
    url: str
    content: bytes
    headers: dict[str, str]


class _Recording(httpx2.AsyncBaseTransport):
    def __init__(self, probes: list[Probe]) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._probes = probes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        headers = {k: v for k, v in request.headers.items() if k in ("accept", "content-type")}
        self._probes.append(Probe(request.method, str(request.url), body, headers))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def recorded_probes(stack: BenchStack) -> list[Probe]:
    """The HTTP requests one doctor run makes (version included: a fresh client asks it)."""
    probes: list[Probe] = []
    async with (
        RestateAdminClient(stack.admin_url, transport=_Recording(probes)) as admin,
        RestateIngressClient(stack.ingress_url, transport=_Recording(probes)) as ingress,
    ):
        await admin.version()  # serve caches it; leave it out of what is replayed
        probes.clear()
        await run_doctor(admin, ingress, now=lambda: datetime.now(UTC))
    return probes


async def _send(http: httpx2.AsyncClient, probe: Probe) -> float:
    started = time.perf_counter()
    response = await http.request(
        probe.method, probe.url, content=probe.content, headers=probe.headers
    )
    response.raise_for_status()
    return time.perf_counter() - started


# --- one doctor: ratios to its own probes, CPU per doctor --------------------------------------


async def single_doctor(serve: ServeProcess, probes: list[Probe], samples: int) -> list[Row]:
    doctor_s: list[float] = []
    concurrent_s: list[float] = []
    slowest_s: list[float] = []
    cpu_s: list[float] = []
    last_doctor = 0.0
    limits = httpx2.Limits(max_connections=len(probes), max_keepalive_connections=len(probes))
    async with httpx2.AsyncClient(timeout=60, trust_env=False, limits=limits) as bare:
        await asyncio.gather(*(_send(bare, p) for p in probes))  # warm the connections
        for _ in range(samples):
            await asyncio.sleep(max(0.0, last_doctor + FRESH_AFTER_S - time.monotonic()))
            cpu = cpu_seconds(serve.pid)
            started = time.perf_counter()
            await serve.doctor()
            doctor_s.append(time.perf_counter() - started)
            cpu_s.append(cpu_seconds(serve.pid) - cpu)
            last_doctor = time.monotonic()
            started = time.perf_counter()
            await asyncio.gather(*(_send(bare, p) for p in probes))
            concurrent_s.append(time.perf_counter() - started)
            slowest_s.append(max([await _send(bare, p) for p in probes]))
    one, concurrent, slowest = median(doctor_s), median(concurrent_s), median(slowest_s)
    cpu_ms = sum(cpu_s) / len(cpu_s) * 1000
    return [
        Row(
            "HTTP doctor ÷ its slowest single probe",
            f"{one / slowest:.2f} ({one * 1000:.0f} / {slowest * 1000:.0f} ms)",
            "≤ 1.5",
            one / slowest <= 1.5,
            {"doctor_ms": one * 1000, "slowest_probe_ms": slowest * 1000},
        ),
        Row(
            "HTTP doctor ÷ same probes fired concurrently by a bare client",
            f"{one / concurrent:.2f} ({one * 1000:.0f} / {concurrent * 1000:.0f} ms)",
            "≤ 1.1",
            one / concurrent <= 1.1,
            {"doctor_ms": one * 1000, "bare_concurrent_ms": concurrent * 1000},
        ),
        Row(
            "bot CPU per doctor (serve, fresh run)",
            f"{cpu_ms:.1f} ms",
            "≤ 10 ms",
            cpu_ms <= 10,
            {"cpu_ms": cpu_ms, "requests_per_doctor": float(len(probes))},
        ),
    ]


# --- bursts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    latencies: list[float]
    false_unreachable: int
    audit_missing: int
    cpu_s: float
    wall_s: float


async def burst(serve: ServeProcess, size: int = BURST) -> Burst:
    async def one() -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        body = await serve.doctor()
        return time.perf_counter() - started, body

    cpu = cpu_seconds(serve.pid)
    started = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(size)))
    wall = time.perf_counter() - started
    return Burst(
        [latency for latency, _ in results],
        sum(1 for _, body in results if unreachable_components(body)),
        sum(1 for _, body in results if body.get("auditError")),
        cpu_seconds(serve.pid) - cpu,
        wall,
    )


async def fresh_doctor_s(serve: ServeProcess) -> float:
    await asyncio.sleep(FRESH_AFTER_S)
    started = time.perf_counter()
    await serve.doctor()
    return time.perf_counter() - started


async def burst_rows(serve: ServeProcess, one_doctor_s: float) -> list[Row]:
    await asyncio.sleep(FRESH_AFTER_S)
    result = await burst(serve)
    p50, p99 = percentile(result.latencies, 50), percentile(result.latencies, 99)
    share = result.false_unreachable / len(result.latencies)
    return [
        Row(
            f"{BURST} concurrent HTTP doctors: readouts falsely `unreachable`",
            f"{share:.0%} ({result.false_unreachable}/{BURST}); audit missing "
            f"{result.audit_missing}",
            "0 %, all audited",
            result.false_unreachable == 0 and result.audit_missing == 0,
            {"false_unreachable": float(result.false_unreachable)},
        ),
        Row(
            f"{BURST} concurrent HTTP doctors: p99 ÷ one doctor",
            f"{p99 / one_doctor_s:.2f} (p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)",
            "≤ 2",
            p99 <= 2 * one_doctor_s,
            {"p50_ms": p50 * 1000, "p99_ms": p99 * 1000, "one_ms": one_doctor_s * 1000},
        ),
        Row(
            f"bot CPU per doctor in a burst of {BURST} (shared run)",
            f"{result.cpu_s / BURST * 1000:.1f} ms",
            "≤ 10 ms",
            result.cpu_s / BURST <= 0.010,
            {"cpu_ms": result.cpu_s / BURST * 1000},
        ),
    ]


async def ten_bursts(serve: ServeProcess, redis_url: str, rounds: int = 10) -> list[Row]:
    """``rounds`` bursts on the same serve; a fresh doctor after each; readiness throughout."""
    after: list[float] = []
    unreachable = 0
    not_ready = 0
    for _ in range(rounds):
        result = await burst(serve)
        unreachable += result.false_unreachable
        after.append(await fresh_doctor_s(serve))
        not_ready += 0 if await serve.ready() else 1
    first, last = median(after[:3]), median(after[-3:])
    ok = last <= 1.5 * first and unreachable == 0 and not_ready == 0
    audited = await serve.audited_attempts(redis_url)
    return [
        Row(
            f"{rounds} bursts of {BURST} on one serve: last doctor ÷ first",
            f"{last / first:.2f} ({first * 1000:.0f} → {last * 1000:.0f} ms); "
            f"unreachable {unreachable}, /readyz failed {not_ready}",
            "≤ 1.5, none",
            ok,
            {"first_ms": first * 1000, "last_ms": last * 1000, "unreachable": float(unreachable)},
            note="first and last are medians of three fresh doctors (after bursts 1-3 and 8-10)",
        ),
        Row(
            "attempts audited (start and finish) after all bursts",
            f"{audited} of {serve.attempts}",
            "all",
            audited == serve.attempts,
            {"audited": float(audited), "attempts": float(serve.attempts)},
        ),
    ]


def rss_row(serve: ServeProcess) -> Row:
    peak = peak_rss_mb(serve.pid)
    return Row("peak RSS of serve", f"{peak:.0f} MB", "≤ 120 MB", peak <= 120, {"rss_mb": peak})
