"""The audit stream's entry format and hash chain, as pure functions (no Redis here).

One stream entry is a flat map of strings::

    v     schema version ("1")
    kind  "start" | "finish"
    eid   random id of this append (a retried append is recognised, not written twice)
    data  canonical JSON of the AttemptStart / AttemptFinish
    prev  hash of the previous entry (GENESIS for the first one)
    hash  SHA-256 hex of the canonical JSON of every other field (so ``prev`` is covered)

Canonical JSON: keys sorted, no spaces, UTF-8. The writer computes ``hash`` in Python and the
store's Lua script appends only if ``prev`` is still the hash of the newest entry (compare and
append), so :class:`ChainWalker` can recompute every link here with ``hashlib`` alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from core.audit import AttemptFinish, AttemptStart

SCHEMA_VERSION = "1"
GENESIS = "0" * 64
Kind = Literal["start", "finish"]
REQUIRED_FIELDS = ("v", "kind", "eid", "data", "prev", "hash")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(fields: Mapping[str, str]) -> str:
    """SHA-256 over the canonical JSON of every field except ``hash`` itself."""
    material = {key: value for key, value in fields.items() if key != "hash"}
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def content(record: AttemptStart | AttemptFinish, eid: str) -> dict[str, str]:
    """The fields of an entry before it is chained (no ``prev``/``hash`` yet)."""
    kind: Kind = "start" if isinstance(record, AttemptStart) else "finish"
    data = canonical_json(record.model_dump(mode="json"))
    return {"v": SCHEMA_VERSION, "kind": kind, "eid": eid, "data": data}


def seal(unchained: Mapping[str, str], prev: str) -> dict[str, str]:
    """``unchained`` linked after an entry whose hash is ``prev``: adds ``prev`` and ``hash``."""
    fields = {**unchained, "prev": prev}
    fields["hash"] = entry_hash(fields)
    return fields


def decode(fields: Mapping[str, str]) -> AttemptStart | AttemptFinish | None:
    """The attempt record an entry carries; None for entries this schema does not know."""
    kind = fields.get("kind")
    data = fields.get("data")
    if fields.get("v") != SCHEMA_VERSION or data is None:
        return None
    try:
        if kind == "start":
            return AttemptStart.model_validate_json(data)
        if kind == "finish":
            return AttemptFinish.model_validate_json(data)
    except ValidationError:
        return None
    return None


def reply_text(value: Any) -> str:
    """One value of a Redis reply as str, whether or not the client decodes responses."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def reply_fields(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {reply_text(key): reply_text(value) for key, value in fields.items()}


def reply_entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    """An XRANGE/XREVRANGE reply as ``(id, fields)`` pairs of str."""
    return [(reply_text(entry_id), reply_fields(fields or {})) for entry_id, fields in reply or []]


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``, for comparing stream ids as numbers."""
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


class BrokenLink(BaseModel):
    """Where the chain first breaks, and what that most likely means."""

    model_config = ConfigDict(frozen=True)

    entry_id: str
    reason: str


class VerifyResult(BaseModel):
    """Outcome of ``audit verify``: ``count`` entries checked, in stream order."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    count: int
    #: Entries removed by the retention policy before the first one (recorded by the trim).
    trimmed: int = 0
    first_broken: BrokenLink | None = None


class ChainWalker:
    """Checks entries fed in stream order and remembers the first broken link.

    ``head_prev`` is what the first entry must point at: GENESIS, or the ``prev`` the last
    retention trim recorded for the entry it left first.
    """

    def __init__(self, head_prev: str, *, trimmed: bool) -> None:
        self._expected_prev = head_prev
        self._trimmed = trimmed
        self._previous_id: str | None = None
        self.count = 0
        self.last_id: str | None = None
        self.first_broken: BrokenLink | None = None

    def feed(self, entry_id: str, fields: Mapping[str, str]) -> None:
        self.count += 1
        self.last_id = entry_id
        if self.first_broken is None:
            reason = self._check(fields)
            if reason is not None:
                self.first_broken = BrokenLink(entry_id=entry_id, reason=reason)
        # Continue from the hash the entry claims, so one bad entry is reported once, not twice.
        self._expected_prev = fields.get("hash", "")
        self._previous_id = entry_id

    def _check(self, fields: Mapping[str, str]) -> str | None:
        missing = [name for name in REQUIRED_FIELDS if name not in fields]
        if missing:
            return f"fields {', '.join(missing)} are missing: not an entry of the audit log"
        if entry_hash(fields) != fields["hash"]:
            return "content does not match its hash: the entry was modified"
        if fields["prev"] == self._expected_prev:
            return None
        if self._previous_id is None and self._trimmed:
            return "does not follow the last retention trim: entries before it were deleted"
        if self._previous_id is None:
            return "does not start the chain: entries before it were deleted"
        return (
            f"missing link: prev is not the hash of entry {self._previous_id}; an entry between "
            "them was deleted, or that entry was replaced"
        )
