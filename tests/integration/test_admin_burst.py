"""Regression for issue 13's wedge: bursts of cancelled doctors never leak the admin pool.

doctor's deadline used to cancel requests queued for a pool connection, and httpcore 1.0.9 never
gave those connections back: after a few bursts every admin call timed out although Restate was
healthy. These tests burst one long-lived client with many doctors, cancel them mid-way, and then
require a plain doctor to answer normally. Run against the code before the fix (httpx 0.28.1,
httpcore 1.0.9, doctor's deadline), the first one fails: the plain doctor reads unreachable.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from core.doctor import run_doctor
from core.models import DoctorReport
from core.restate.client import RestateAdminClient, RestateIngressClient
from tests.integration.conftest import RegisteredWorkflowService, RestateStack

pytestmark = pytest.mark.integration

BURST = 60
BURSTS = 12


def statuses(report: DoctorReport) -> set[str]:
    parts = (report.ingress, report.admin, report.deployments, report.services, report.invocations)
    return {part.status for part in parts}


async def doctor(admin: RestateAdminClient, ingress: RestateIngressClient) -> DoctorReport:
    return await run_doctor(admin, ingress, now=lambda: datetime.now(UTC), probe_timeout_s=5.0)


async def test_cancelled_bursts_leave_a_doctor_that_answers_normally(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> None:
    """After bursts of doctors cancelled mid-flight, a plain doctor is all ok, pool drained."""
    async with (
        RestateAdminClient(restate_stack.admin_url, max_concurrency=4) as admin,
        RestateIngressClient(restate_stack.ingress_url, max_concurrency=4) as ingress,
    ):
        for round_ in range(BURSTS):
            burst = [asyncio.create_task(doctor(admin, ingress)) for _ in range(BURST)]
            # Cancel everything a little later each round, so the cancellations land on requests
            # queued for a slot, connecting, sending and reading: where the old pool leaked.
            for _ in range(round_ + 1):
                await asyncio.sleep(0)
            for task in burst:
                task.cancel()
            await asyncio.gather(*burst, return_exceptions=True)

        report = await doctor(admin, ingress)
        pool = admin.pool_status()
        await admin.ready()

    assert (statuses(report), pool.in_flight, pool.waiting, pool.problem) == ({"ok"}, 0, 0, None)


async def test_a_burst_of_concurrent_doctors_reads_no_false_unreachable(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService
) -> None:
    """Fifty doctors at once on one client: queued probes wait their turn, none reads down."""
    async with (
        RestateAdminClient(restate_stack.admin_url, max_concurrency=2) as admin,
        RestateIngressClient(restate_stack.ingress_url, max_concurrency=2) as ingress,
    ):
        reports = await asyncio.gather(*(doctor(admin, ingress) for _ in range(50)))

    assert {status for report in reports for status in statuses(report)} == {"ok"}
