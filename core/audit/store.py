"""The audit log over a Redis Stream: fail-closed starts, retried finishes, a verifiable chain.

Appending (see ``core.audit.chain`` for the entry format): the writer computes the digest of the
new entry's content; a Lua script (``core.audit.lua``) reads the newest entry's hash, links the
new entry to it and appends it, in one atomic step. Two writers (bot replicas) can never both
append after the same entry, and no append ever loses a race: the chain stays linear whatever the
interleaving, and contention costs nothing but Redis' own queueing.

Retention (optional, time based) trims with ``XTRIM MINID`` and records in ``<stream>:anchor`` the
``prev`` of the entry it leaves first and how many it removed, so ``verify`` can tell a retention
trim from deleted entries. The newest entry is never trimmed: the next append chains from it. On
Redis Cluster give the stream a hash tag (``{restate-ops}:audit``) so both keys share a slot.

What ``verify`` cannot see: anyone with full write access can rebuild the whole stream with fresh
hashes (the chain has no secret key), or delete stream and anchor together. Ship the stream to a
store the bot cannot rewrite (a SIEM) for that; see the README on durability.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import stamina
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.audit import AttemptFinish, AttemptStart, AttemptView
from core.audit.chain import (
    VerifyResult,
    content,
    content_digest,
    decode,
    parse_stream_id,
    reply_entries,
)
from core.audit.lua import APPEND_LUA, TRIM_LUA
from core.audit.verify import verify_stream
from core.errors import AuditUnavailable
from core.redact import redact_text, sanitize

log = logging.getLogger(__name__)

DEFAULT_STREAM = "restate-ops:audit"
_T = TypeVar("_T")
_PAGE = 200
# Connections per process: enough for every concurrent attempt Redis can usefully serve.
_MAX_CONNECTIONS = 32
# How long an append's marker lives: a retry of the same append within it is recognised.
_EID_TTL_S = 600


def audit_redis_client(url: str, *, timeout: float = 1.0) -> Redis:
    """A client that fails fast when Redis is gone, for :class:`RedisAuditLog`.

    Short socket timeouts instead of redis-py's 5 s; one immediate retry so a connection broken
    by a Redis restart is replaced transparently (safe: a repeated append is recognised by eid).
    A burst of audited attempts waits for a pooled connection instead of being refused with
    "Too many connections" (redis-py's default pool): our own load must never refuse a write.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=_MAX_CONNECTIONS,
        timeout=None,  # the store's own deadline bounds the wait
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        decode_responses=True,
    )
    return Redis.from_pool(pool)


class RedisAuditLog:
    """The ``core.audit.AuditLog`` port over one Redis Stream, plus ``verify`` and retention."""

    def __init__(
        self,
        redis: Redis,
        stream: str = DEFAULT_STREAM,
        *,
        retention: timedelta | None = None,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        finish_retries: int = 8,
        finish_backoff: float = 0.1,
        finish_backoff_cap: float = 2.0,
    ) -> None:
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive, or None to keep everything")
        self._redis = redis
        self._stream = stream
        self._anchor = f"{stream}:anchor"
        self._retention = retention
        self._now = now or (lambda: datetime.now(UTC))
        self._timeout = timeout
        self._finish_retries = finish_retries
        self._finish_backoff = finish_backoff
        self._finish_backoff_cap = finish_backoff_cap
        self._append_script = redis.register_script(APPEND_LUA)
        self._trim_script = redis.register_script(TRIM_LUA)

    @property
    def stream(self) -> str:
        return self._stream

    # --- the AuditLog port ---------------------------------------------------------------------

    async def record_start(self, start: AttemptStart) -> None:
        """Append the start; raise ``AuditUnavailable`` when it is not stored (do not act then)."""
        scrubbed = start.model_copy(
            update={
                "args": sanitize(start.args),
                "reason": redact_text(start.reason) if start.reason else start.reason,
                "context": sanitize(start.context),
            }
        )
        await self._call("append start", self._append(content(scrubbed, uuid.uuid4().hex)))

    async def record_finish(self, finish: AttemptFinish) -> bool:
        """Append the finish, retrying with backoff; False (logged as an error) if it never did."""
        message = finish.error_message
        scrubbed = finish.model_copy(update={"error_message": message and redact_text(message)})
        # One eid for every try: a try that got in but lost its reply is not written twice.
        unchained = content(scrubbed, uuid.uuid4().hex)
        tries = self._finish_retries + 1
        retrying = stamina.retry_context(
            on=AuditUnavailable,
            attempts=tries,
            timeout=None,
            wait_initial=self._finish_backoff,
            wait_max=self._finish_backoff_cap,
            # Jitter, so replicas waiting for the same Redis do not come back in lockstep.
            wait_jitter=self._finish_backoff,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.num > 1:
                        log.warning(
                            "audit finish of attempt %s: try %d/%d",
                            finish.attempt_id,
                            attempt.num,
                            tries,
                        )
                    await self._call("append finish", self._append(unchained))
        except AuditUnavailable as error:
            # Loud on purpose: the entry itself is logged so it can be restored by hand.
            log.error(
                "AUDIT FINISH LOST: attempt %s (request %s, outcome %s) not recorded in %s after "
                "%d tries: %s; entry: %s",
                finish.attempt_id,
                finish.request_id,
                finish.outcome,
                self._stream,
                tries,
                error.message,
                unchained["data"],
            )
            return False
        return True

    async def latest(self, count: int) -> list[AttemptView]:
        """The newest ``count`` attempts by start, newest first, each joined with its finish.

        A finish is appended after its start, so walking back from the newest entry meets it
        first; once ``count`` starts are collected every finish they have is already known.
        """
        starts: list[AttemptStart] = []
        finishes: dict[str, AttemptFinish] = {}
        upper = "+"
        while len(starts) < count:
            page = reply_entries(
                await self._call(
                    "read", self._redis.xrevrange(self._stream, max=upper, min="-", count=_PAGE)
                )
            )
            for _, fields in page:
                record = decode(fields)
                if isinstance(record, AttemptFinish):
                    finishes[record.attempt_id] = record
                elif isinstance(record, AttemptStart) and len(starts) < count:
                    starts.append(record)
            if len(page) < _PAGE:
                break
            upper = f"({page[-1][0]}"
        return [AttemptView(start=s, finish=finishes.get(s.attempt_id)) for s in starts]

    # --- verification and retention ------------------------------------------------------------

    async def verify(self) -> VerifyResult:
        """Walk the stream oldest first and report the first broken or missing link, or OK."""
        return await verify_stream(self._redis, self._stream, self._anchor, self._call)

    async def trim_expired(self) -> int:
        """Remove entries older than the retention window; 0 when retention is None (keep all)."""
        if self._retention is None:
            return 0
        cutoff_ms = int((self._now() - self._retention).timestamp() * 1000)
        newest = reply_entries(
            await self._call("read", self._redis.xrevrange(self._stream, max="+", min="-", count=1))
        )
        if not newest:
            return 0
        # MINID removes ids below it; capping it at the newest id keeps the chain's tip.
        minid = min((cutoff_ms, 0), parse_stream_id(newest[0][0]))
        removed = await self._call(
            "trim",
            self._trim_script(keys=[self._stream, self._anchor], args=[f"{minid[0]}-{minid[1]}"]),
        )
        if removed:
            log.info("audit retention removed %d entries older than %s", removed, self._retention)
        return int(removed)

    # --- internals -----------------------------------------------------------------------------

    async def _append(self, unchained: Mapping[str, str]) -> None:
        eid = unchained["eid"]
        args = [unchained[name] for name in ("v", "kind", "eid", "data")]
        await self._append_script(
            keys=[self._stream, f"{self._stream}:eid:{eid}"],
            args=[*args, content_digest(unchained), _EID_TTL_S],
        )

    async def _call(self, what: str, call: Awaitable[_T]) -> _T:
        """Await one Redis round trip with a deadline; Redis failures become AuditUnavailable."""
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except (RedisError, OSError) as exc:  # OSError covers the deadline's TimeoutError
            detail = redact_text(str(exc)) or "no answer within the timeout"
            raise AuditUnavailable(
                f"The audit log (Redis stream {self._stream}) is unavailable: {what} failed "
                f"({type(exc).__name__}: {detail}).",
                data={"stream": self._stream, "cause": type(exc).__name__},
            ) from exc
