"""Bulk triage against a real restate-server and redis-server.

Each test owns a key prefix on the shared server (``keyPrefix`` in every filter), so no test
selects another's invocations, and discards its invocations afterwards so nothing keeps retrying.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from redis.asyncio import Redis

from bot.devstack import WorkflowIngress
from core.audit import Actor, AttemptFinish, AttemptStart
from core.audit.chain import decode, reply_entries
from core.audit.store import RedisAuditLog
from core.errors import (
    AdminRequestFailed,
    ApprovalRequired,
    PendingActionUnavailable,
    SelfApprovalRefused,
)
from core.operations import Attempt
from core.restate.client import RestateAdminClient
from core.restate.sql import literal
from core.triage.models import INTERRUPTED_MESSAGE, BulkReport, ItemOutcome
from core.triage.service import Triage, TriageConfig
from core.triage.store import LIVENESS_WINDOW, BulkActionStore
from tests.integration.admin_recorder import RecordingAdminProxy
from tests.integration.conftest import RegisteredWorkflowService, RestateStack

pytestmark = pytest.mark.integration

FIXABLE = "FixableWorkflow"
RECOVERY = "IdentityRecoveryWorkflow"
ECHO = "EchoService"
ALICE = Actor(id="alice", surface="http", role="operator")
BOB = Actor(id="bob", surface="http", role="operator")


@dataclass
class Bench:
    admin: RestateAdminClient
    ingress: WorkflowIngress
    redis: Redis
    audit: RedisAuditLog
    store: BulkActionStore
    prefix: str
    flag: Path

    def triage(self, **config: Any) -> Triage:
        return Triage(
            admin=self.admin, audit=self.audit, store=self.store, config=TriageConfig(**config)
        )


async def discard(admin: RestateAdminClient, prefix: str) -> None:
    """Kill and purge every invocation whose key starts with ``prefix`` (shared server hygiene)."""
    sql = (
        "SELECT id, status FROM sys_invocation "  # noqa: S608 - literal()
        f"WHERE starts_with(target_service_key, {literal(prefix)})"
    )
    for row in await admin.query(sql):
        if row["status"] != "completed":
            try:
                await admin.kill_invocation(row["id"])
            except AdminRequestFailed as exc:
                if exc.status not in (404, 409):
                    raise
    for row in await admin.query(sql):
        try:
            await admin.purge_invocation(row["id"])
        except AdminRequestFailed as exc:
            if exc.status not in (404, 409):
                raise


@pytest.fixture
async def bench(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> AsyncIterator[Bench]:
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    redis: Redis = Redis.from_url(redis_url, decode_responses=True)
    async with (
        RestateAdminClient(restate_stack.admin_url) as admin,
        WorkflowIngress(restate_stack.ingress_url) as ingress,
    ):
        try:
            yield Bench(
                admin,
                ingress,
                redis,
                RedisAuditLog(redis, f"{redis_prefix}audit"),
                BulkActionStore(redis, prefix=redis_prefix),
                prefix,
                tmp_path / "fixed",
            )
        finally:
            await discard(admin, prefix)
            await redis.aclose()


def attempt(actor: Actor) -> Attempt:
    return Attempt(actor=actor)


async def count_where(admin: RestateAdminClient, prefix: str, condition: str) -> int:
    rows = await admin.query(
        "SELECT count(*) AS n FROM sys_invocation "  # noqa: S608 - literal() and constants
        f"WHERE starts_with(target_service_key, {literal(prefix)}) AND {condition}"
    )
    return int(rows[0]["n"])


async def until_count(
    admin: RestateAdminClient, prefix: str, condition: str, expected: int, within_s: float = 60
) -> int:
    """Poll until ``expected`` invocations of the prefix meet ``condition``; the last count."""
    deadline = time.monotonic() + within_s
    while True:
        n = await count_where(admin, prefix, condition)
        if n == expected or time.monotonic() >= deadline:
            return n
        await asyncio.sleep(0.2)


async def submit_all(bench: Bench, service: str, keys: list[str], payload: dict[str, Any]) -> None:
    slots = asyncio.Semaphore(16)

    async def one(key: str) -> None:
        async with slots:
            await bench.ingress.submit(service, key, payload)

    async with asyncio.TaskGroup() as group:
        for key in keys:
            group.create_task(one(key))


async def paused_fixable(bench: Bench, n: int) -> list[str]:
    keys = [f"{bench.prefix}{i:04d}" for i in range(n)]
    await submit_all(bench, FIXABLE, keys, {"fixedWhen": str(bench.flag)})
    assert await until_count(bench.admin, bench.prefix, "status = 'paused'", n) == n
    return keys


async def audit_records(bench: Bench) -> list[AttemptStart | AttemptFinish]:
    entries = reply_entries(await bench.redis.xrange(bench.audit.stream))
    return [r for r in (decode(fields) for _, fields in entries) if r is not None]


# --- the tests ------------------------------------------------------------------------------------


async def test_two_hundred_paused_runs_resume_with_one_action_once_fixed(bench: Bench) -> None:
    """200 paused runs of a failing service: fix it, one resume action, all 200 complete."""
    await paused_fixable(bench, 200)
    triage = bench.triage()
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix, "status": ["paused"]}

    readout = await triage.query(attempt(ALICE), {**flt, "shown": 3})
    offered = {o.action: o for o in readout.actions}
    preview = await triage.preview(
        attempt(ALICE), {"action": "resume", "deployment": "latest", "filter": flt}
    )
    bench.flag.touch()  # the fix is deployed
    report = await triage.execute(attempt(ALICE), preview.action_id)

    assert (readout.total, readout.selected, readout.by_status, len(readout.items)) == (
        200,
        200,
        {"paused": 200},
        3,
    )
    assert readout.items[0].error_code == "RT0007"
    assert offered["resume"].offered
    assert offered["resume"].applies_to == 200
    assert not offered["purge"].offered
    assert (preview.count, preview.needs_approval) == (200, False)
    assert (report.done, report.skipped, report.failed) == (200, 0, 0)
    completed = "status = 'completed' AND completion_result = 'success'"
    assert await until_count(bench.admin, bench.prefix, completed, 200) == 200


async def test_hundred_failed_workflow_keys_recover_with_one_approved_action(
    bench: Bench,
) -> None:
    """100 terminal-failed keys: one approved recover; every key then re-runs from blank state."""
    keys = [f"{bench.prefix}{i:03d}" for i in range(100)]
    await submit_all(bench, RECOVERY, keys, {"mode": "fail"})
    failed = "status = 'completed' AND completion_result = 'failure'"
    assert await until_count(bench.admin, bench.prefix, failed, 100) == 100
    triage = bench.triage()

    preview = await triage.preview(
        attempt(ALICE),
        {"action": "recover", "filter": {"service": RECOVERY, "keyPrefix": bench.prefix}},
    )
    await triage.approve(attempt(BOB), preview.action_id)
    report = await triage.execute(attempt(ALICE), preview.action_id)
    slots = asyncio.Semaphore(16)

    async def rerun(key: str) -> Any:
        async with slots:
            return await bench.ingress.call(RECOVERY, key, "run", {"mode": "succeed"})

    outputs = await asyncio.gather(*(rerun(key) for key in keys))

    assert (preview.count, preview.needs_approval) == (100, True)
    assert (report.done, report.skipped, report.failed) == (100, 0, 0)
    assert report.approved_by == "bob"
    assert outputs == [{"priorStep": None}] * 100


async def test_ids_that_changed_between_preview_and_execution_are_skipped_with_reasons(
    bench: Bench,
) -> None:
    """Only the previewed ids: ones killed or purged since are skipped, a new match is ignored."""
    keys = await paused_fixable(bench, 6)
    triage = bench.triage(two_person=frozenset())
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
    ids = {item.id: item.key for item in preview.items}
    by_key = {key: i for i, key in ids.items()}
    await bench.admin.kill_invocation(by_key[keys[0]])
    await bench.admin.kill_invocation(by_key[keys[1]])
    await bench.admin.purge_invocation(by_key[keys[1]])
    late = f"{bench.prefix}late"
    await bench.ingress.submit(FIXABLE, late, {"fixedWhen": str(bench.flag)})

    report = await triage.execute(attempt(ALICE), preview.action_id)

    outcomes = {ids[o.id]: (o.outcome, o.detail) for o in report.items}
    assert outcomes[keys[0]] == ("skipped", "changed state: now completed (failure), was paused")
    assert outcomes[keys[1]] == ("skipped", "no longer exists (was paused)")
    assert {outcomes[k][0] for k in keys[2:]} == {"done"}
    assert late not in outcomes
    assert len(outcomes) == 6


async def test_two_person_rule_refuses_the_requester_and_accepts_a_second_operator(
    bench: Bench,
) -> None:
    """Kill needs a second operator: the requester can neither run nor approve it; bob can."""
    await paused_fixable(bench, 2)
    triage = bench.triage()
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})

    with pytest.raises(ApprovalRequired):
        await triage.execute(attempt(ALICE), preview.action_id)
    with pytest.raises(SelfApprovalRefused):
        await triage.approve(attempt(ALICE), preview.action_id)
    await triage.approve(attempt(BOB), preview.action_id)
    report = await triage.execute(attempt(ALICE), preview.action_id)

    records = await audit_records(bench)
    starts = {r.attempt_id: r for r in records if isinstance(r, AttemptStart)}
    routes = [
        (starts[r.attempt_id].route, starts[r.attempt_id].actor.id, r.outcome, r.error_code)
        for r in records
        if isinstance(r, AttemptFinish)
    ]
    execute_finish = next(
        r
        for r in records
        if isinstance(r, AttemptFinish)
        and starts[r.attempt_id].route == "invocations-execute"
        and r.outcome == "succeeded"
    )
    assert (report.done, report.approved_by, report.executed_by) == (2, "bob", "alice")
    assert routes == [
        ("invocations-preview", "alice", "succeeded", None),
        ("invocations-execute", "alice", "blocked", "APPROVAL_REQUIRED"),
        ("invocations-approve", "alice", "denied", "SELF_APPROVAL_REFUSED"),
        ("invocations-approve", "bob", "succeeded", None),
        ("invocations-execute", "alice", "succeeded", None),
    ]
    assert [i["outcome"] for i in execute_finish.items or []] == ["done", "done"]
    assert (await bench.audit.verify()).ok


async def test_a_selection_over_the_cap_shows_the_total_and_acts_on_at_most_the_cap(
    bench: Bench,
) -> None:
    """12 match, the cap is 5: the readout says 12, the action kills 5, 7 stay paused."""
    await paused_fixable(bench, 12)
    triage = bench.triage(two_person=frozenset())
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix, "limit": 5}

    readout = await triage.query(attempt(ALICE), flt)
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
    report = await triage.execute(attempt(ALICE), preview.action_id)

    assert (readout.total, readout.selected, readout.capped) == (12, 5, True)
    assert (preview.count, preview.total_matched, report.done) == (5, 12, 5)
    assert await count_where(bench.admin, bench.prefix, "status = 'paused'") == 7


async def test_a_stop_request_mid_run_leaves_a_report_of_what_was_done(bench: Bench) -> None:
    """Stop after the second item: two done, the rest skipped as stopped, nothing else killed."""
    await paused_fixable(bench, 6)
    triage = bench.triage(two_person=frozenset(), concurrency=1)
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
    seen: list[ItemOutcome] = []
    midway: list[BulkReport] = []

    async def on_item(outcome: ItemOutcome) -> None:
        seen.append(outcome)
        if len(seen) == 2:
            midway.append(await triage.report(attempt(BOB), preview.action_id))
            assert await triage.cancel(attempt(BOB), preview.action_id) == "stopping"

    report = await triage.execute(attempt(ALICE), preview.action_id, on_item)

    assert [o.outcome for o in report.items] == ["done"] * 2 + ["skipped"] * 4
    assert report.items[-1].detail == "stopped by bob before it was reached"
    assert report.stopped_by == "bob"
    assert [(m.state, m.done, m.total) for m in midway] == [("running", 2, 6)]
    assert await count_where(bench.admin, bench.prefix, "status = 'paused'") == 4


def clocked(bench: Bench, admin: RestateAdminClient, clock: list[datetime]) -> Triage:
    """A triage whose clock the test moves, on a store of its own under the test's prefix."""
    return Triage(
        admin=admin,
        audit=bench.audit,
        store=BulkActionStore(bench.redis, prefix=f"{bench.prefix}store:"),
        config=TriageConfig(two_person=frozenset(), concurrency=1),
        now=lambda: clock[0],
    )


async def test_a_run_whose_process_ended_midway_reads_interrupted_and_is_never_rerun(
    bench: Bench, restate_stack: RestateStack
) -> None:
    """Two kills done, the third held, the run cancelled: past its deadline it reads interrupted
    with its counts, and running or stopping it again is refused with what to do next."""
    await paused_fixable(bench, 4)
    clock = [datetime(2026, 12, 2, 7, 0, tzinfo=UTC)]
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    async with (
        RecordingAdminProxy(restate_stack.admin_url) as proxy,
        RestateAdminClient(proxy.url) as admin,
    ):
        triage = clocked(bench, admin, clock)
        preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
        held = asyncio.Event()

        async def on_item(outcome: ItemOutcome) -> None:
            if outcome.outcome == "done" and len(proxy.writes()) == 2:
                proxy.hold_writes()  # the third kill never reaches Restate
                held.set()

        run = asyncio.create_task(triage.execute(attempt(ALICE), preview.action_id, on_item))
        try:
            async with asyncio.timeout(30):
                await held.wait()
                while len(proxy.writes()) < 3:  # noqa: ASYNC110 - the proxy has no event for it
                    await asyncio.sleep(0.05)
            run.cancel()  # the process ends: no finish, no more checkpoints
            with pytest.raises(asyncio.CancelledError):
                await run
        finally:
            proxy.release_writes()
    before = await triage.report(attempt(BOB), preview.action_id)
    clock[0] += LIVENESS_WINDOW + timedelta(seconds=1)

    after = await triage.report(attempt(BOB), preview.action_id)
    with pytest.raises(PendingActionUnavailable) as rerun:
        await triage.execute(attempt(BOB), preview.action_id)
    with pytest.raises(PendingActionUnavailable) as stop:
        await triage.cancel(attempt(BOB), preview.action_id)

    assert (before.state, before.done, before.message) == ("running", 2, None)
    assert (after.state, after.done, after.skipped, after.failed, after.total) == (
        "interrupted",
        2,
        0,
        0,
        4,
    )
    assert after.message == INTERRUPTED_MESSAGE
    for refused in (rerun.value, stop.value):
        assert refused.code == "PENDING_ACTION_UNAVAILABLE"
        assert (refused.message, refused.data) == (INTERRUPTED_MESSAGE, {"state": "interrupted"})


async def test_a_live_runs_checkpoints_keep_it_running_past_its_first_deadline(
    bench: Bench,
) -> None:
    """The clock moves two thirds of the window per item: the run, checkpointing before each
    item, reads running throughout (past the claim's deadline) and then finished."""
    await paused_fixable(bench, 3)
    clock = [datetime(2026, 12, 2, 7, 0, tzinfo=UTC)]
    claimed_deadline = clock[0] + LIVENESS_WINDOW
    triage = clocked(bench, bench.admin, clock)
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
    midway: list[tuple[str, int, bool]] = []

    async def on_item(outcome: ItemOutcome) -> None:
        clock[0] += LIVENESS_WINDOW * 2 / 3
        status = await triage.report(attempt(BOB), preview.action_id)
        midway.append((status.state, status.done, clock[0] > claimed_deadline))

    report = await triage.execute(attempt(ALICE), preview.action_id, on_item)
    final = await triage.report(attempt(BOB), preview.action_id)

    assert midway == [("running", 1, False), ("running", 2, True), ("running", 3, True)]
    assert (report.state, report.done, final.state) == ("finished", 3, "finished")


async def test_filters_by_error_code_text_and_age_select_on_the_real_server(
    bench: Bench,
) -> None:
    """Paused runs are found by their pause reason's code and text; an age filter excludes them."""
    await paused_fixable(bench, 2)
    triage = bench.triage()
    base = {"keyPrefix": bench.prefix}

    by_code = await triage.query(attempt(ALICE), {**base, "errorCode": "RT0007"})
    by_text = await triage.query(
        attempt(ALICE), {**base, "errorContains": "UPSTREAM PROVIDER IS DOWN"}
    )
    no_text = await triage.query(attempt(ALICE), {**base, "errorContains": "100%_nothing'"})
    old = await triage.query(attempt(ALICE), {**base, "olderThan": "1h"})
    new = await triage.query(attempt(ALICE), {**base, "newerThan": "1h"})
    everything = await triage.query(attempt(ALICE), {"shown": 0})

    assert (by_code.total, by_text.total, no_text.total) == (2, 2, 0)
    assert (old.total, new.total) == (0, 2)
    assert everything.total >= 2
    assert everything.items == []


class _OldServer(httpx2.AsyncBaseTransport):
    """The real admin API, except that ``/version`` says 1.5.3 (pause arrived in 1.6)."""

    def __init__(self) -> None:
        self._real = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/version":
            return httpx2.Response(200, json={"version": "1.5.3", "max_admin_api_version": 2})
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        await self._real.aclose()


async def test_actions_an_older_server_lacks_are_not_offered_with_the_reason(
    bench: Bench, restate_stack: RestateStack
) -> None:
    """On a server that reports 1.5.3, pause is hidden with the version it needs; resume stays."""
    await paused_fixable(bench, 1)
    async with RestateAdminClient(restate_stack.admin_url, transport=_OldServer()) as old:
        triage = Triage(admin=old, audit=bench.audit, store=bench.store)
        readout = await triage.query(attempt(ALICE), {"keyPrefix": bench.prefix})
        offered = {o.action: o for o in readout.actions}
        with pytest.raises(Exception, match="pause is not offered"):
            await triage.preview(
                attempt(ALICE), {"action": "pause", "filter": {"keyPrefix": bench.prefix}}
            )

    assert readout.server_version == "1.5.3"
    assert offered["pause"].offered is False
    assert offered["pause"].reason == "needs Restate 1.6+; the server runs 1.5"
    assert offered["resume"].offered is True


async def test_two_replicas_racing_to_approve_and_run_an_action_do_each_once(
    bench: Bench,
) -> None:
    """Two replicas share Redis: of two approvals and two runs at once, exactly one of each wins."""
    await paused_fixable(bench, 3)
    first, second = bench.triage(), bench.triage()
    carol = Actor(id="carol", surface="slack", role="operator")
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await first.preview(attempt(ALICE), {"action": "kill", "filter": flt})

    approvals = await asyncio.gather(
        first.approve(attempt(BOB), preview.action_id),
        second.approve(attempt(carol), preview.action_id),
        return_exceptions=True,
    )
    runs = await asyncio.gather(
        first.execute(attempt(ALICE), preview.action_id),
        second.execute(attempt(BOB), preview.action_id),
        return_exceptions=True,
    )

    assert sorted(type(a).__name__ for a in approvals) == ["BulkAction", "PendingActionUnavailable"]
    reports = [r for r in runs if not isinstance(r, BaseException)]
    refused = [r for r in runs if isinstance(r, BaseException)]
    assert [r.done for r in reports] == [3]
    assert [type(r).__name__ for r in refused] == ["PendingActionUnavailable"]


async def test_an_expired_approval_must_be_given_again(bench: Bench) -> None:
    """Eleven minutes after bob's approval (the window is ten) the run is refused until renewed."""
    await paused_fixable(bench, 1)
    clock = [datetime(2026, 12, 2, 7, 0, tzinfo=UTC)]
    triage = Triage(
        admin=bench.admin,
        audit=bench.audit,
        store=BulkActionStore(
            bench.redis, prefix=f"{bench.prefix}store:", approval_ttl=timedelta(minutes=10)
        ),
        now=lambda: clock[0],
    )
    flt = {"service": FIXABLE, "keyPrefix": bench.prefix}
    preview = await triage.preview(attempt(ALICE), {"action": "kill", "filter": flt})
    await triage.approve(attempt(BOB), preview.action_id)
    clock[0] += timedelta(minutes=11)

    with pytest.raises(ApprovalRequired, match="expired"):
        await triage.execute(attempt(ALICE), preview.action_id)
    await triage.approve(attempt(BOB), preview.action_id)
    report = await triage.execute(attempt(ALICE), preview.action_id)

    assert report.done == 1


async def test_completed_plain_service_invocations_restart_as_new(
    bench: Bench, restate_stack: RestateStack
) -> None:
    """restart-as-new is offered for completed non-workflow runs and starts each one again."""
    async with httpx.AsyncClient(base_url=restate_stack.ingress_url, trust_env=False) as http:
        for value in ("a", "b"):
            answer = await http.post(f"/{ECHO}/echo", json=f"{bench.prefix}{value}")
            assert answer.status_code == 200, answer.text
    triage = bench.triage()
    flt = {"service": ECHO, "status": ["completed"], "newerThan": "1h"}
    try:
        readout = await triage.query(attempt(ALICE), flt)
        offered = {o.action: o for o in readout.actions}
        preview = await triage.preview(attempt(ALICE), {"action": "restart-as-new", "filter": flt})
        report = await triage.execute(attempt(ALICE), preview.action_id)
        ids = [item.id for item in preview.items]
        restarted = await bench.admin.query(
            "SELECT restarted_from FROM sys_invocation "  # noqa: S608 - literal()
            f"WHERE restarted_from IN ({', '.join(literal(i) for i in ids)})"
        )
    finally:
        await discard_service(bench.admin, ECHO)

    assert offered["restart-as-new"].offered is True
    assert offered["recover"].offered is False
    assert report.done == len(ids) >= 2
    assert sorted(row["restarted_from"] for row in restarted) == sorted(ids)


async def discard_service(admin: RestateAdminClient, service: str) -> None:
    """Purge every completed invocation of ``service`` (plain services have no key prefix)."""
    rows = await admin.query(
        "SELECT id FROM sys_invocation "  # noqa: S608 - literal()
        f"WHERE target_service_name = {literal(service)} AND status = 'completed'"
    )
    for row in rows:
        try:
            await admin.purge_invocation(row["id"])
        except AdminRequestFailed as exc:
            if exc.status != 404:
                raise
