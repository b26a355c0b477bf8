"""The Redis Stream audit log against a real redis-server (AOF, appendfsync always).

Tests that only write use the session's server with a stream of their own (``redis_prefix``).
Tests that stop, kill or freeze Redis start a server of their own (``own_redis``): the shared one
must stay up for everyone else.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.devstack import RedisServer, WorkflowService
from core.audit import Actor, AttemptFinish, AttemptStart, AttemptView, Outcome, Surface
from core.audit import lua as audit_lua
from core.audit import store as audit_store
from core.audit import verify as audit_verify
from core.audit.chain import GENESIS, content, entry_hash
from core.audit.store import RedisAuditLog, audit_redis_client
from core.audit.views import shown_outcome
from core.errors import AuditUnavailable
from core.operations import Attempt, Operations
from core.restate.client import RestateAdminClient

pytestmark = pytest.mark.integration

StartWorkflowService = Callable[[], Awaitable[WorkflowService]]
T0 = datetime(2026, 5, 9, 10, 7, 19, 250000, tzinfo=UTC)


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_start(n: int, **changes: Any) -> AttemptStart:
    start = AttemptStart(
        attempt_id=f"att_{n}",
        request_id=f"req_{n}",
        actor=Actor(id="U123", surface="slack", display_name="alice", role="operator"),
        route="force-redeploy",
        args={"serviceUrl": "http://ddwf:9080/v1", "force": True},
        started_at="2026-05-09T10:07:19.000Z",
    )
    return AttemptStart.model_validate({**start.model_dump(), **changes})


def make_finish(n: int, outcome: Outcome = "succeeded") -> AttemptFinish:
    return AttemptFinish(
        attempt_id=f"att_{n}",
        request_id=f"req_{n}",
        outcome=outcome,
        finished_at="2026-05-09T10:07:20.000Z",
    )


async def write_attempts(store: RedisAuditLog, numbers: range) -> None:
    for n in numbers:
        await store.record_start(make_start(n))
        assert await store.record_finish(make_finish(n)) is True


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (never a blind sleep) until it holds, for at most 5 seconds."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polls log records, nothing to await
            await asyncio.sleep(0.01)


async def entries(
    client: Redis, stream: str, *, newest_first: bool = False
) -> list[tuple[str, dict[str, str]]]:
    """The raw stream entries (the client decodes responses, so ids and fields are str)."""
    page = await (client.xrevrange(stream) if newest_first else client.xrange(stream))
    return [
        (str(entry_id), {str(k): str(v) for k, v in (f or {}).items()})
        for entry_id, f in page or []
    ]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = audit_redis_client(redis_url, timeout=0.5)
    yield redis
    await redis.aclose()


@pytest.fixture
def stream(redis_prefix: str) -> str:
    return f"{redis_prefix}audit"


@pytest.fixture
def store(client: Redis, stream: str) -> RedisAuditLog:
    return RedisAuditLog(client, stream)


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    """A redis-server for this test alone, which the test may stop, kill or restart."""
    async with RedisServer() as server:
        yield server


@pytest.fixture
async def own_client(own_redis: RedisServer) -> AsyncIterator[Redis]:
    redis = audit_redis_client(own_redis.url, timeout=0.5)
    yield redis
    await redis.aclose()


# --- what is stored -----------------------------------------------------------------------------

CONTEXTS: dict[Surface, dict[str, str]] = {
    "slack": {"channel": "C0123", "message_ts": "1778321239.000100"},
    "http": {},
    "cli": {},
}
OUTCOMES: list[tuple[Outcome, Surface, str | None, str | None]] = [
    ("succeeded", "slack", None, None),
    ("failed", "http", "RESTATE_ADMIN_UNREACHABLE", "The Restate admin API did not answer."),
    ("denied", "slack", "OFFCHAIN_USER_PERMISSION_REQUIRED", "U999 lacks operate permission."),
    ("blocked", "cli", "RESTATE_WORKFLOW_RETRY_BLOCKED", "Blocked by an active invocation."),
]


@pytest.mark.parametrize(("outcome", "surface", "code", "message"), OUTCOMES)
async def test_each_outcome_is_stored_with_every_field(
    store: RedisAuditLog,
    client: Redis,
    stream: str,
    outcome: Outcome,
    surface: Surface,
    code: str | None,
    message: str | None,
) -> None:
    """A start and its finish are stored with every field, at the pinned times, and read back."""
    with freeze_time(T0, real_asyncio=True) as frozen:
        start = AttemptStart(
            attempt_id="att_01",
            request_id="req_01",
            actor=Actor(id="U123", surface=surface, display_name="alice", role="operator"),
            route="recover-stuck-workflow",
            args={"serviceName": "InvitationWorkflow", "serviceKey": "invitation_01"},
            reason="INC-42 invitation stuck",
            started_at=iso_now(),
            context=CONTEXTS[surface],
        )
        await store.record_start(start)
        frozen.tick(timedelta(seconds=1.5))
        finish = AttemptFinish(
            attempt_id="att_01",
            request_id="req_01",
            outcome=outcome,
            finished_at=iso_now(),
            error_code=code,
            error_message=message,
        )
        assert await store.record_finish(finish) is True

    assert [AttemptView(start=start, finish=finish)] == await store.latest(5)
    raw = await entries(client, stream)
    assert [{"v", "kind", "eid", "data", "prev", "hash"}] * 2 == [set(f) for _, f in raw]
    expected_start = {
        "attempt_id": "att_01",
        "request_id": "req_01",
        "actor": {"id": "U123", "surface": surface, "display_name": "alice", "role": "operator"},
        "route": "recover-stuck-workflow",
        "phase": "execute",
        "args": {"serviceName": "InvitationWorkflow", "serviceKey": "invitation_01"},
        "reason": "INC-42 invitation stuck",
        "started_at": "2026-05-09T10:07:19.250Z",
        "context": CONTEXTS[surface],
    }
    expected_finish = {
        "attempt_id": "att_01",
        "request_id": "req_01",
        "outcome": outcome,
        "finished_at": "2026-05-09T10:07:20.750Z",
        "error_code": code,
        "error_message": message,
    }
    assert [expected_start, expected_finish] == [json.loads(f["data"]) for _, f in raw]


async def test_a_start_without_finish_reads_as_interrupted(store: RedisAuditLog) -> None:
    """An attempt whose finish never came is in progress for the grace period, then interrupted."""
    with freeze_time(T0, real_asyncio=True) as frozen:
        start = make_start(1, started_at=iso_now())
        await store.record_start(start)
        [view] = await store.latest(1)
        assert (view.finish, view.outcome) == (None, "interrupted")
        assert shown_outcome(view, datetime.now(UTC)) == "in-progress"
        frozen.tick(timedelta(minutes=5))
        assert shown_outcome(view, datetime.now(UTC)) == "interrupted"


async def test_credentials_at_any_depth_reach_the_stream_redacted(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """URL user info in arguments, reason, context and error message is stored as REDACTED."""
    start = make_start(
        1,
        args={
            "serviceUrl": "http://deploy:s3cret@ddwf:9080/v1?x=1#top",
            "extra": [{"mirror": ("https://bot:s3cret@[::1]:8443/p",)}],
            "apiKey": "s3cret",
        },
        reason="was at http://old:s3cret@ddwf:9080",
        context={"channel": "C1", "note": "redis://:s3cret@cache:6379/0"},
    )
    await store.record_start(start)
    finish = make_finish(1, "failed").model_copy(
        update={"error_code": "X", "error_message": "GET http://deploy:s3cret@ddwf:9080/ failed"}
    )
    await store.record_finish(finish)

    raw = await entries(client, stream)
    assert "s3cret" not in repr(raw)
    stored_start, stored_finish = (json.loads(f["data"]) for _, f in raw)
    assert stored_start["args"] == {
        "serviceUrl": "http://REDACTED@ddwf:9080/v1?x=1#top",
        "extra": [{"mirror": ["https://REDACTED@[::1]:8443/p"]}],
        "apiKey": "[REDACTED]",
    }
    assert stored_start["reason"] == "was at http://REDACTED@ddwf:9080"
    assert stored_start["context"] == {"channel": "C1", "note": "redis://REDACTED@cache:6379/0"}
    assert stored_finish["error_message"] == "GET http://REDACTED@ddwf:9080/ failed"


async def test_a_lone_surrogate_in_the_arguments_is_stored_and_verifies(
    store: RedisAuditLog,
) -> None:
    """Arguments no UTF-8 encoder accepts (a lone surrogate) never stop the audit row."""
    await store.record_start(make_start(1, args={"serviceKey": "k\ud800"}))
    [view] = await store.latest(1)
    assert view.start.args == {"serviceKey": "k\ud800"}
    assert (await store.verify()).ok is True


async def test_latest_pages_newest_first_and_joins_across_pages(
    store: RedisAuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest attempts come first, each with its finish, however the pages fall."""
    monkeypatch.setattr(audit_store, "_PAGE", 3)
    await write_attempts(store, range(6))
    await store.record_start(make_start(6))
    views = await store.latest(4)
    expected = [("att_6", "interrupted"), ("att_5", "succeeded"), ("att_4", "succeeded")]
    expected.append(("att_3", "succeeded"))
    assert expected == [(v.start.attempt_id, v.outcome) for v in views]
    assert len(await store.latest(50)) == 7


async def test_a_repeated_append_is_stored_once(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """An append sent again after its reply was lost (same eid) is recognised, not duplicated."""
    # The retry path of record_finish and redis-py both resend the same entry; call it directly.
    unchained = content(make_finish(1), "same-eid")
    await store._append(unchained)
    await store._append(unchained)
    assert await client.xlen(stream) == 1


# --- failure and durability ---------------------------------------------------------------------


async def test_record_start_fails_fast_when_redis_is_down(
    own_redis: RedisServer, own_client: Redis
) -> None:
    """With Redis stopped, the start is refused at once with AuditUnavailable; nothing is kept."""
    store = RedisAuditLog(own_client, "audit")
    await own_redis.stop()
    began = time.monotonic()
    with pytest.raises(AuditUnavailable) as raised:
        await store.record_start(make_start(1))
    assert time.monotonic() - began < 1.0
    assert isinstance(raised.value.__cause__, RedisError)
    assert raised.value.code == "AUDIT_UNAVAILABLE"
    assert "Redis stream audit" in raised.value.message
    await own_redis.start()
    assert await own_client.xlen("audit") == 0


async def test_a_write_is_refused_and_restate_untouched_when_redis_is_down(
    own_redis: RedisServer,
    own_client: Redis,
    restate_admin: RestateAdminClient,
    start_workflow_service: StartWorkflowService,
) -> None:
    """With Redis down, force-redeploy is refused as AUDIT_UNAVAILABLE and registers nothing."""
    service = await start_workflow_service()
    operations = Operations(admin=restate_admin, ingress=None, audit=RedisAuditLog(own_client))
    before = await restate_admin.list_deployments()
    await own_redis.stop()
    actor = Actor(id="U123", surface="slack", display_name="alice", role="operator")
    with pytest.raises(AuditUnavailable) as raised:
        await operations.execute(Attempt(actor), "force-redeploy", {"serviceUrl": service.url})
    assert raised.value.request_id is not None
    assert before == await restate_admin.list_deployments()


async def test_record_start_times_out_when_redis_hangs(
    own_redis: RedisServer, own_client: Redis
) -> None:
    """A Redis that accepts but never answers refuses the start within the store's timeout."""
    store = RedisAuditLog(own_client, "audit", timeout=0.3)
    await own_client.ping()
    pid = own_redis.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        with pytest.raises(AuditUnavailable):
            await store.record_start(make_start(1))
        assert time.monotonic() - began < 1.0
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_finish_is_retried_until_redis_comes_back(
    own_redis: RedisServer, own_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A finish written while Redis is down is retried with backoff and lands once it is back."""
    store = RedisAuditLog(
        own_client, "audit", finish_retries=40, finish_backoff=0.02, finish_backoff_cap=0.1
    )
    await store.record_start(make_start(1))
    await own_redis.stop()
    task = asyncio.create_task(store.record_finish(make_finish(1, "failed")))
    await until(lambda: any(": try 2/" in r.getMessage() for r in caplog.records))
    await own_redis.start()
    assert await task is True
    [view] = await store.latest(1)
    assert view.outcome == "failed"
    assert ((result := await store.verify()).ok, result.count) == (True, 2)


async def test_a_finish_that_never_lands_is_logged_as_an_error(
    own_redis: RedisServer, own_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """When every retry fails, record_finish returns False and logs the lost entry as an error."""
    store = RedisAuditLog(own_client, "audit", finish_retries=2, finish_backoff=0.01)
    await own_redis.stop()
    assert await store.record_finish(make_finish(7, "failed")) is False
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith("AUDIT FINISH LOST: attempt att_7 (request req_7")
    assert '"outcome":"failed"' in error.getMessage()


async def test_a_killed_redis_with_aof_loses_no_entry(
    own_redis: RedisServer, own_client: Redis
) -> None:
    """After SIGKILL and restart, every acknowledged entry is back and the chain continues."""
    store = RedisAuditLog(own_client, "audit")
    await write_attempts(store, range(10))
    await store.record_start(make_start(10))
    await own_redis.kill()
    await own_redis.start()

    views = await store.latest(20)
    assert [f"att_{n}" for n in range(10, -1, -1)] == [v.start.attempt_id for v in views]
    assert [v.outcome for v in views] == ["interrupted"] + ["succeeded"] * 10
    assert await store.record_finish(make_finish(10)) is True
    assert ((result := await store.verify()).ok, result.count) == (True, 22)


@pytest.mark.parametrize("run", range(5))
async def test_two_contending_writers_never_refuse_and_keep_the_chain_valid(
    redis_url: str, stream: str, run: int
) -> None:
    """Two replicas appending 200 entries each, all at once, lose no append and keep one chain."""
    clients = [audit_redis_client(redis_url), audit_redis_client(redis_url)]
    stores = [RedisAuditLog(c, stream) for c in clients]

    async def writer(index: int) -> None:
        await asyncio.gather(
            *(stores[index].record_start(make_start(n)) for n in range(index, 400, 2))
        )

    try:
        await asyncio.gather(writer(0), writer(1))
        result = await stores[0].verify()
        assert (result.ok, result.count, result.first_broken) == (True, 400, None)
        assert len({v.start.attempt_id for v in await stores[1].latest(400)}) == 400
    finally:
        for redis in clients:
            await redis.aclose()


async def test_the_append_script_hashes_like_hashlib(client: Redis) -> None:
    """The SHA-256 inside the append script equals hashlib's, across block boundaries."""
    probe = client.register_script(audit_lua.SHA256_PROBE)
    messages = ["", "abc", "é" * 40, *("x" * n for n in (55, 56, 63, 64, 65, 119, 120, 1000))]
    for message in messages:
        expected = hashlib.sha256(message.encode()).hexdigest()
        assert (message, expected) == (message, await probe(args=[message]))


async def test_entries_of_schema_version_1_still_verify(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """A stream started by the previous release (v1 entries) verifies with new entries after it."""
    prev = GENESIS
    for n in range(2):
        fields = {**content(make_start(n), f"old{n}"), "v": "1", "prev": prev}
        fields["hash"] = entry_hash(fields)
        encodable: dict[Any, Any] = dict(fields)
        await client.xadd(stream, encodable)
        prev = fields["hash"]
    await write_attempts(store, range(2, 4))
    result = await store.verify()
    assert (result.ok, result.count, result.first_broken) == (True, 6, None)
    assert [v.start.attempt_id for v in await store.latest(10)] == [
        "att_3",
        "att_2",
        "att_1",
        "att_0",
    ]


# --- verify -------------------------------------------------------------------------------------


async def copy_stream(
    client: Redis, source: str, target: str, edit: Callable[[int, dict[str, str]], None]
) -> list[str]:
    """Rebuild ``source`` as ``target`` with the same ids, letting ``edit`` change entries."""
    ids: list[str] = []
    for index, (entry_id, fields) in enumerate(await entries(client, source)):
        edit(index, fields)
        encodable: dict[Any, Any] = dict(fields)  # xadd's mapping type is invariant
        await client.xadd(target, encodable, id=entry_id)
        ids.append(entry_id)
    return ids


async def test_verify_reports_ok_with_the_count(
    store: RedisAuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An untouched stream verifies across pages; an absent one is OK and empty."""
    monkeypatch.setattr(audit_verify, "_PAGE", 4)
    assert ((empty := await store.verify()).ok, empty.count) == (True, 0)
    await write_attempts(store, range(3))
    assert ((r := await store.verify()).ok, r.count, r.first_broken) == (True, 6, None)


async def test_verify_detects_a_modified_entry(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """A stream rebuilt with one entry's content changed fails verification at that entry."""
    await write_attempts(store, range(3))

    def tamper(index: int, fields: dict[str, str]) -> None:
        if index == 3:
            fields["data"] = fields["data"].replace('"succeeded"', '"failed"')

    ids = await copy_stream(client, stream, f"{stream}:copy", tamper)
    result = await RedisAuditLog(client, f"{stream}:copy").verify()
    assert result.first_broken is not None
    assert (False, ids[3], "content does not match its hash: the entry was modified") == (
        result.ok,
        result.first_broken.entry_id,
        result.first_broken.reason,
    )


async def test_verify_detects_a_modified_entry_whose_hash_was_recomputed(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """Re-hashing a changed entry moves the break to the next entry's link."""
    await write_attempts(store, range(3))

    def tamper(index: int, fields: dict[str, str]) -> None:
        if index == 3:
            fields["data"] = fields["data"].replace('"succeeded"', '"failed"')
            fields["hash"] = entry_hash(fields)

    ids = await copy_stream(client, stream, f"{stream}:copy", tamper)
    result = await RedisAuditLog(client, f"{stream}:copy").verify()
    assert result.first_broken is not None
    assert (False, ids[4]) == (result.ok, result.first_broken.entry_id)
    assert result.first_broken.reason.startswith(
        f"missing link: prev is not the hash of entry {ids[3]}"
    )


async def test_verify_detects_a_deleted_entry(
    store: RedisAuditLog, client: Redis, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XDEL of an entry in the middle is reported at the entry that follows it, across pages."""
    monkeypatch.setattr(audit_verify, "_PAGE", 2)
    await write_attempts(store, range(3))
    ids = [entry_id for entry_id, _ in await entries(client, stream)]
    await client.xdel(stream, ids[2])
    result = await store.verify()
    assert result.first_broken is not None
    assert (False, 5, ids[3]) == (result.ok, result.count, result.first_broken.entry_id)
    assert result.first_broken.reason.startswith(
        f"missing link: prev is not the hash of entry {ids[1]}"
    )


async def test_verify_detects_a_deleted_newest_entry_even_after_new_appends(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """Deleting the newest entry leaves no gap in the chain, but XDEL is still reported."""
    await write_attempts(store, range(2))
    newest = (await entries(client, stream, newest_first=True))[0][0]
    await client.xdel(stream, newest)
    await store.record_start(make_start(9))
    result = await store.verify()
    assert result.first_broken is not None
    assert (False, newest) == (result.ok, result.first_broken.entry_id)
    assert result.first_broken.reason.startswith("the entry was deleted with XDEL")


async def test_verify_detects_entries_trimmed_outside_retention(
    store: RedisAuditLog, client: Redis, stream: str
) -> None:
    """Head entries removed without the retention trim's record break the chain's start."""
    await write_attempts(store, range(3))
    await client.xtrim(stream, maxlen=4, approximate=False)
    result = await store.verify()
    assert result.first_broken is not None
    assert result.first_broken.reason == "does not start the chain: entries before it were deleted"


# --- retention ----------------------------------------------------------------------------------


async def test_retention_removes_only_entries_older_than_the_window(
    client: Redis, stream: str
) -> None:
    """Entries older than the window go; newer ones stay, and the chain still verifies."""
    retention = timedelta(days=30)
    store = RedisAuditLog(client, stream, retention=retention)
    await write_attempts(store, range(3))
    last_old_ms = int((await entries(client, stream, newest_first=True))[0][0].split("-")[0])

    async def server_ms() -> int:
        seconds, micros = await client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    # Poll Redis' own clock (it stamps the ids) so the two groups differ by at least 2 ms.
    async with asyncio.timeout(5):
        while await server_ms() <= last_old_ms + 1:  # noqa: ASYNC110 - polling a server, no event
            await asyncio.sleep(0.001)
    await write_attempts(store, range(3, 5))
    cutoff = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=last_old_ms + 1.5)

    with freeze_time(cutoff + retention, real_asyncio=True):
        assert await store.trim_expired() == 6
        assert await store.trim_expired() == 0

    assert [v.start.attempt_id for v in await store.latest(10)] == ["att_4", "att_3"]
    result = await store.verify()
    assert (result.ok, result.count, result.trimmed, result.first_broken) == (True, 4, 6, None)
    await write_attempts(store, range(5, 6))
    assert ((after := await store.verify()).ok, after.count) == (True, 6)


async def test_retention_keeps_the_newest_entry_and_none_keeps_all(
    client: Redis, stream: str
) -> None:
    """Without retention nothing is trimmed; with it, the newest entry always stays as the tip."""
    await write_attempts(RedisAuditLog(client, stream), range(2))
    assert await RedisAuditLog(client, stream).trim_expired() == 0
    far_future = RedisAuditLog(
        client,
        stream,
        retention=timedelta(days=1),
        now=lambda: datetime.now(UTC) + timedelta(days=400),
    )
    assert await far_future.trim_expired() == 3
    assert await client.xlen(stream) == 1
    await write_attempts(far_future, range(2, 3))
    result = await far_future.verify()
    assert (result.ok, result.count, result.trimmed) == (True, 3, 3)
    assert (await client.hgetall(f"{stream}:anchor"))["prev"] != GENESIS


async def test_verify_detects_a_deleted_stream_after_retention(client: Redis, stream: str) -> None:
    """Once retention has trimmed, a stream deleted outright no longer verifies as empty and OK."""
    store = RedisAuditLog(
        client,
        stream,
        retention=timedelta(days=1),
        now=lambda: datetime.now(UTC) + timedelta(days=2),
    )
    await write_attempts(store, range(2))
    assert await store.trim_expired() == 3
    await client.delete(stream)
    result = await store.verify()
    assert result.first_broken is not None
    assert (False, stream) == (result.ok, result.first_broken.entry_id)
