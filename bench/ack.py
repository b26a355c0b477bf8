"""The Slack ack row: ``bench.slack_ack`` (slack-hardening's) run as its own process, parsed.

It starts its own servers and the fake Slack, so it runs after the main stack has stopped and
does not compete with it for the CPU. Its printed p50/p99 become one row of the table.
"""

from __future__ import annotations

import asyncio
import re
import sys

from bench.report import Row

TARGET_P99_MS = 50.0
_LINE = re.compile(r"ack (p50|p99)\s+([0-9.]+) ms")


async def ack_row(rounds: int) -> Row:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.slack_ack",
        "--rounds",
        str(rounds),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    found = {name: float(value) for name, value in _LINE.findall(out.decode())}
    figure = "50 concurrent signed `/restate doctor`: ack p99"
    if "p99" not in found:
        tail = out.decode().strip().splitlines()[-1:] or ["no output"]
        return Row(figure, "not measured", f"≤ {TARGET_P99_MS:.0f} ms", False, note=tail[0][:200])
    p50, p99 = found.get("p50", float("nan")), found["p99"]
    return Row(
        figure,
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
        f"p99 ≤ {TARGET_P99_MS:.0f} ms",
        p99 <= TARGET_P99_MS,
        {"p50_ms": p50, "p99_ms": p99},
        note=f"python -m bench.slack_ack --rounds {rounds} (its own stack, after the others)",
    )
