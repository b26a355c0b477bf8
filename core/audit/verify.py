"""``audit verify``: walk the audit stream oldest first and find the first broken or missing link.

The chain (``core.audit.chain``) shows modified entries and entries deleted between two others.
Two deletions leave no gap in it, so the stream's own metadata is checked too (Redis 7.0+):
``max-deleted-entry-id`` is set by any ``XDEL`` (the audit log never deletes; retention uses
``XTRIM``, which does not set it), and ``last-generated-id`` differs from the newest entry when the
newest entries are gone. The retention anchor (``<stream>:anchor``) says where a legitimate trim
left the chain's head.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core.audit.chain import (
    GENESIS,
    BrokenLink,
    ChainWalker,
    VerifyResult,
    reply_entries,
    reply_fields,
    reply_text,
)
from core.errors import AuditUnavailable

_T = TypeVar("_T")
_PAGE = 500
_WALKS = 3


class RedisCall(Protocol):
    """Awaits one Redis round trip with the store's deadline and error translation."""

    async def __call__(self, what: str, call: Awaitable[_T]) -> _T: ...


async def verify_stream(redis: Redis, stream: str, anchor: str, call: RedisCall) -> VerifyResult:
    """Verify ``stream``; a retention trim during the walk makes it walk again (up to 3 times)."""
    for _ in range(_WALKS):
        result = await _walk(redis, stream, anchor, call)
        if result is not None:
            return result
    raise AuditUnavailable(f"audit verify raced with retention trimming {_WALKS} times; rerun it")


async def _walk(redis: Redis, stream: str, anchor: str, call: RedisCall) -> VerifyResult | None:
    info = await call("read", _stream_info(redis, stream))
    # Read after the stream's info: a trim in between shows up as a changed first entry.
    head = reply_fields(await call("read", redis.hgetall(anchor)))
    if info is None and head:
        reason = "the stream is gone although retention trims were recorded: it was deleted"
        return VerifyResult(
            ok=False, count=0, first_broken=BrokenLink(entry_id=stream, reason=reason)
        )
    if info is None:
        return VerifyResult(ok=True, count=0)
    walker = ChainWalker(head.get("prev", GENESIS), trimmed="prev" in head)
    # Up to the newest entry at the snapshot: entries appended meanwhile are for the next run.
    last_generated = reply_text(info["last-generated-id"])
    lower = "-"
    while True:
        page = reply_entries(
            await call("read", redis.xrange(stream, min=lower, max=last_generated, count=_PAGE))
        )
        if lower == "-" and page and page[0][0] != _first_id(info):
            return None  # trimmed between the snapshot and the walk
        for entry_id, fields in page:
            walker.feed(entry_id, fields)
        if len(page) < _PAGE:
            break
        lower = f"({page[-1][0]}"
    broken = walker.first_broken or _deletion(info, walker.last_id, last_generated)
    trimmed = int(head.get("trimmed", 0))
    return VerifyResult(ok=broken is None, count=walker.count, trimmed=trimmed, first_broken=broken)


async def _stream_info(redis: Redis, stream: str) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = await redis.xinfo_stream(stream)
    except ResponseError as exc:
        if "no such key" in str(exc):
            return None
        raise
    return info


def _deletion(
    info: Mapping[str, Any], last_id: str | None, last_generated: str
) -> BrokenLink | None:
    """Deletions the chain cannot show: any XDEL, or the newest entries gone."""
    max_deleted = reply_text(info.get("max-deleted-entry-id") or "0-0")
    if max_deleted != "0-0":
        return BrokenLink(
            entry_id=max_deleted,
            reason="the entry was deleted with XDEL (the audit log itself never deletes)",
        )
    if last_generated != "0-0" and last_id != last_generated:
        return BrokenLink(
            entry_id=last_generated,
            reason=f"the newest entries were deleted: the newest left is {last_id or 'none'}",
        )
    return None


def _first_id(info: Mapping[str, Any]) -> str | None:
    first = info.get("first-entry")
    return reply_text(first[0]) if first else None
