"""Per-item costs of the writes, through serve's HTTP routes: recover per key, cleanup per
stale deployment (the writes run last: they change what doctor reads)."""

from __future__ import annotations

import asyncio
import time

from bench.report import Row
from bench.serve import ServeProcess
from bench.stack import RECOVERY, BenchStack
from core.restate.client import RestateAdminClient


async def _recover(serve: ServeProcess, key: str) -> None:
    response = await serve.post(
        "recover-stuck-workflow", {"serviceName": RECOVERY, "serviceKey": key}
    )
    if response.status_code != 200:
        raise RuntimeError(f"recover {key}: {response.status_code} {response.text[:300]}")


async def _sequential(serve: ServeProcess, keys: list[str]) -> float:
    started = time.perf_counter()
    for key in keys:
        await _recover(serve, key)
    return (time.perf_counter() - started) / len(keys)


async def _bounded(serve: ServeProcess, keys: list[str], concurrency: int) -> float:
    slots = asyncio.Semaphore(concurrency)

    async def one(key: str) -> None:
        async with slots:
            await _recover(serve, key)

    started = time.perf_counter()
    await asyncio.gather(*(one(key) for key in keys))
    return (time.perf_counter() - started) / len(keys)


async def recover_rows(
    serve: ServeProcess, failed_keys: list[str], small: int, large: int, concurrency: int = 8
) -> list[Row]:
    if len(failed_keys) < small + 2 * large:
        raise RuntimeError(f"need {small + 2 * large} failed keys, seeded {len(failed_keys)}")
    keys = iter(failed_keys)
    per_small = await _sequential(serve, [next(keys) for _ in range(small)])
    per_large = await _sequential(serve, [next(keys) for _ in range(large)])
    per_bulk = await _bounded(serve, [next(keys) for _ in range(large)], concurrency)
    return [
        Row(
            f"recover, per key, sequential ({small} → {large} keys)",
            f"{per_small * 1000:.0f} → {per_large * 1000:.0f} ms",
            "flat (≤ 1.5x)",
            per_large <= 1.5 * per_small,
            {"small_ms": per_small * 1000, "large_ms": per_large * 1000},
        ),
        Row(
            f"recover, per key, {concurrency} at a time ÷ sequential ({large} keys)",
            f"{per_large / per_bulk:.1f}x faster ({per_bulk * 1000:.0f} ms per key)",
            "≥ 5x",
            per_large / per_bulk >= 5,
            {"bulk_ms": per_bulk * 1000},
        ),
    ]


async def _cleanup_round(serve: ServeProcess, stack: BenchStack, count: int, tag: str) -> float:
    live = stack.workflows.url
    async with RestateAdminClient(stack.admin_url, timeout=60) as admin:
        for i in range(count):
            await admin.register_deployment(f"{live}/stale-{tag}-{i}", force=True)
        await admin.register_deployment(live, force=True)  # latest again: the others drain
    started = time.perf_counter()
    response = await serve.post("cleanup-stale-deployments", {"serviceUrl": live})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"cleanup: {response.status_code} {response.text[:300]}")
    return elapsed / count


async def cleanup_rows(serve: ServeProcess, stack: BenchStack, small: int, large: int) -> Row:
    per_small = await _cleanup_round(serve, stack, small, "a")
    per_large = await _cleanup_round(serve, stack, large, "b")
    return Row(
        f"cleanup, per stale deployment ({small} → {large})",
        f"{per_small * 1000:.0f} → {per_large * 1000:.0f} ms",
        "flat (≤ 1.5x)",
        per_large <= 1.5 * per_small,
        {"small_ms": per_small * 1000, "large_ms": per_large * 1000},
    )
