"""Concurrent doctors share one run; a young readout is reused; a write starts afresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.audit import Actor
from core.authz import OPERATOR
from core.errors import AdminRequestFailed, AdminUnreachable
from core.models import DoctorReport
from core.operations import Attempt, Operations
from core.shared_readout import SharedReadout
from tests.fakes import FakeAuditLog
from tests.unit.admin_fakes import FakeRestate, deployment
from tests.unit.reports import report as healthy_report


class GatedDoctor:
    """A doctor run that finishes only when the test opens the gate; keeps each run's readout."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.reports: list[DoctorReport] = []

    @property
    def runs(self) -> int:
        return len(self.reports)

    async def __call__(self) -> DoctorReport:
        report = healthy_report().model_copy()  # a distinct object per run
        self.reports.append(report)
        await self.gate.wait()
        return report

    def run_of(self, report: DoctorReport) -> int:
        """Which run (1, 2, ...) produced ``report``."""
        return next(i for i, mine in enumerate(self.reports, 1) if mine is report)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    """Let every ready task run up to its next real wait."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_fifty_concurrent_callers_share_one_run() -> None:
    """Fifty callers that ask while a run is in flight all get that run's readout."""
    doctor = GatedDoctor()
    shared = SharedReadout(doctor, max_age_s=0.0)

    callers = [asyncio.create_task(shared.get()) for _ in range(50)]
    await settle()
    doctor.gate.set()
    reports = await asyncio.gather(*callers)

    assert (doctor.runs, {doctor.run_of(r) for r in reports}) == (1, {1})


async def test_a_young_readout_is_reused_and_an_old_one_is_not() -> None:
    """Within max_age the last readout is handed out again; after it, Restate is probed anew."""
    doctor, clock = GatedDoctor(), Clock()
    doctor.gate.set()
    shared = SharedReadout(doctor, max_age_s=1.0, clock=clock)

    first = await shared.get()
    clock.now += 0.9
    young = await shared.get()
    clock.now += 0.2
    old = await shared.get()

    assert [doctor.run_of(r) for r in (first, young, old)] == [1, 1, 2]


async def test_invalidate_starts_a_new_run_even_while_one_is_in_flight() -> None:
    """A caller after a write never gets a run that started before it (verify-after-write)."""
    doctor = GatedDoctor()
    shared = SharedReadout(doctor, max_age_s=10.0)

    before = asyncio.create_task(shared.get())
    await settle()
    shared.invalidate()
    after = asyncio.create_task(shared.get())
    await settle()
    doctor.gate.set()

    later = await shared.get()
    assert [doctor.run_of(r) for r in (await before, await after, later)] == [1, 2, 2]


async def test_a_caller_that_goes_away_does_not_cancel_the_run_for_the_others() -> None:
    """Cancelling one waiting caller leaves the shared run and the other callers untouched."""
    doctor = GatedDoctor()
    shared = SharedReadout(doctor, max_age_s=0.0)

    leaving = asyncio.create_task(shared.get())
    staying = asyncio.create_task(shared.get())
    await settle()
    leaving.cancel()
    await settle()
    doctor.gate.set()

    assert (doctor.run_of(await staying), leaving.cancelled(), doctor.runs) == (1, True, 1)


async def test_a_failed_run_reaches_every_caller_and_is_not_kept() -> None:
    """An error is raised to each waiting caller; the next caller runs doctor again."""
    runs = 0

    async def failing() -> DoctorReport:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0)
        raise AdminUnreachable("no admin URL")

    shared = SharedReadout(failing, max_age_s=10.0)
    results = await asyncio.gather(shared.get(), shared.get(), return_exceptions=True)
    with pytest.raises(AdminUnreachable):
        await shared.get()

    assert ([type(r) for r in results], runs) == ([AdminUnreachable, AdminUnreachable], 2)


@pytest.fixture
async def fake_ops() -> AsyncIterator[tuple[FakeRestate, FakeAuditLog, Operations]]:
    fake = FakeRestate(deployments=[deployment("dp_1", "http://ddwf:9080/")])
    audit = FakeAuditLog()
    async with fake.admin() as admin, fake.ingress() as ingress:
        yield (
            fake,
            audit,
            Operations(admin=admin, ingress=ingress, audit=audit, readout_max_age_s=1.0),
        )


async def test_fifty_operators_cost_restate_one_doctor_and_get_fifty_audit_rows(
    fake_ops: tuple[FakeRestate, FakeAuditLog, Operations],
) -> None:
    """Fifty concurrent doctors send one deployment list to Restate and audit fifty attempts."""
    fake, audit, ops = fake_ops
    actor = Actor(id="U0OPERATOR", surface="slack", role=OPERATOR)

    results = await asyncio.gather(*(ops.doctor(Attempt(actor=actor)) for _ in range(50)))

    assert (
        fake.asked["deployments"],
        len({r.request_id for r in results}),
        audit.outcomes().count(("doctor", "succeeded")),
    ) == (1, 50, 50)


async def test_a_failed_doctor_is_audited_as_failed_after_its_start() -> None:
    """Without an admin URL doctor raises; its attempt is still audited, start then finish."""
    audit = FakeAuditLog()
    ops = Operations(admin=None, ingress=None, audit=audit)
    actor = Actor(id="U0OPERATOR", surface="slack", role=OPERATOR)

    with pytest.raises(AdminUnreachable) as caught:
        await ops.doctor(Attempt(actor=actor, request_id="req_7"))

    assert (caught.value.request_id, len(audit.starts), audit.outcomes()) == (
        "req_7",
        1,
        [("doctor", "failed")],
    )


async def test_a_write_attempt_makes_the_next_doctor_probe_afresh(
    fake_ops: tuple[FakeRestate, FakeAuditLog, Operations],
) -> None:
    """Within the reuse window, a doctor after a write (even a failed one) is a new run."""
    fake, _, ops = fake_ops
    actor = Actor(id="U0OPERATOR", surface="slack", role=OPERATOR)

    await ops.doctor(Attempt(actor=actor))
    await ops.doctor(Attempt(actor=actor))
    with pytest.raises(AdminRequestFailed):  # the fake has no POST /deployments
        await ops.execute(
            Attempt(actor=actor), "force-redeploy", {"serviceUrl": "http://ddwf:9080/"}
        )
    await ops.doctor(Attempt(actor=actor))

    assert (fake.asked["deployments"], ops.doctor_runs) == (2, 2)
