"""``python -m bench [--quick] [-n N] [--json PATH]``: issue 13's table, measured in one run.

Starts a real Restate (the pinned version, or ``RESTATE_VERSION``), Redis and the sample
workflows on loopback, seeds N invocations (10,000; ``--quick`` 1,000), starts one
``restate-ops serve`` process and measures every figure against it, in this order (the writes
last: they change what doctor reads):

1. one doctor against its own probes (slowest alone, all at once by a bare client), CPU per doctor
2. ``restate-ops doctor`` as a process against the native ``restate`` CLI sequence
3. a burst of 50 concurrent doctors, then 10 bursts in a row on the same serve
4. what each doctor SQL query costs Restate
5. recover per key (sequential, then 8 at a time) and cleanup per stale deployment
6. serve's peak RSS
7. once that stack has stopped: the Slack ack burst (``bench.slack_ack``, on its own stack)

Prints the table with targets and PASS/FAIL and writes it as JSON (``.cache/bench/latest.json``).
Exits 0 unless ``--strict`` and a target was missed: the table is the result, not the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import doctor, sql, writes
from bench.ack import ack_row
from bench.peer import ROOT, cli_vs_native
from bench.report import Row, machine, markdown, render, write_json
from bench.serve import ServeProcess, bot_env
from bench.stack import BenchStack
from bot.devstack.binaries import restate_version


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 invocations, fewer items")
    parser.add_argument("-n", "--invocations", type=int, help="how many invocations to seed")
    parser.add_argument("--samples", type=int, default=9, help="samples per compared pair (≥ 7)")
    parser.add_argument(
        "--json", type=Path, default=ROOT / ".cache" / "bench" / "latest.json", help="output"
    )
    parser.add_argument("--markdown", action="store_true", help="also print the README table")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-ack", action="store_true", help="skip the Slack ack burst")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, object]]:
    n = args.invocations or (1_000 if args.quick else 10_000)
    samples = max(7, args.samples)
    recover_sizes = (5, 20) if args.quick else (10, 100)
    cleanup_sizes = (5, 20) if args.quick else (10, 50)
    rows: list[Row] = []
    started = time.perf_counter()
    async with BenchStack() as stack:
        seeded = await stack.seed(n)
        log(f"seeded {n} invocations in {seeded.seconds:.0f} s")
        env = bot_env(
            admin_url=stack.admin_url,
            ingress_url=stack.ingress_url,
            redis_url=stack.redis_url,
            service_url=stack.workflows.url,
        )
        async with ServeProcess(env) as serve:
            await serve.doctor()  # warm: connections, cached version
            probes = await doctor.recorded_probes(stack)
            single = await doctor.single_doctor(serve, probes, samples)
            rows += single
            log("one doctor measured")
            rows.append(await cli_vs_native(env, stack.admin_url, samples))
            log("CLI against the native sequence measured")
            rows += await doctor.burst_rows(serve, single[0].values["doctor_ms"] / 1000)
            rows += await doctor.ten_bursts(serve, stack.redis_url)
            log("bursts measured")
            sql_costs = await sql.sql_rows(stack, probes, samples)
            rows += await writes.recover_rows(serve, list(seeded.failed_keys), *recover_sizes)
            log("recover measured")
            rows.append(await writes.cleanup_rows(serve, stack, *cleanup_sizes))
            log("cleanup measured")
            rows.append(doctor.rss_row(serve))
            rows += sql_costs
    if not args.no_ack:
        rows.insert(7, await ack_row(rounds=2 if args.quick else 4))
        log("Slack ack measured")
    meta: dict[str, object] = {
        "restate": restate_version(),
        "invocations": n,
        "seed_seconds": round(seeded.seconds, 1),
        "samples": samples,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    return rows, meta


def log(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse(argv)
    rows, meta = asyncio.run(run(args))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"restate-ops benchmark, {when}: Restate {meta['restate']}, {meta['invocations']:,} "
        f"invocations (seeded in {meta['seed_seconds']} s), medians of {meta['samples']}, "
        f"{meta['total_seconds']} s in all\n{machine()}"
    )
    print(render(rows, header))
    if args.markdown:
        print("\n" + markdown(rows))
    write_json(args.json, rows, meta)
    print(f"\nJSON: {args.json}")
    missed = [row for row in rows if row.passed is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
