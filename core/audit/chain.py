"""The audit stream's entry format and hash chain, as pure functions (no Redis here).

One stream entry is a flat map of strings::

    v     schema version ("2"; entries of version "1" are still read and verified)
    kind  "start" | "finish"
    eid   random id of this append (a retried append is recognised, not written twice)
    data  canonical JSON of the AttemptStart / AttemptFinish (ASCII: any string can be stored)
    prev  hash of the previous entry (GENESIS for the first one)
    hash  the link: SHA-256 hex of ``prev`` followed by the content digest

The content digest is SHA-256 hex over ``v``, ``kind``, ``eid`` and ``data`` as netstrings
(``<byte length>:<value>,``), so no two contents share a digest input. The writer computes the
digest; the store's Lua script (``core.audit.lua``) reads the newest hash and computes the link
in one atomic step. :class:`ChainWalker` recomputes both here with ``hashlib`` alone.

Version "1" hashed the canonical JSON of every field but ``hash`` in Python and appended by
compare-and-swap, which lost races under contention; its entries verify as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from core.audit import AttemptFinish, AttemptStart

SCHEMA_VERSION = "2"
_V1 = "1"
GENESIS = "0" * 64
Kind = Literal["start", "finish"]
REQUIRED_FIELDS = ("v", "kind", "eid", "data", "prev", "hash")
CONTENT_FIELDS = ("v", "kind", "eid", "data")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_digest(fields: Mapping[str, str]) -> str:
    """SHA-256 hex over ``v``, ``kind``, ``eid`` and ``data`` as netstrings."""
    parts = []
    for name in CONTENT_FIELDS:
        value = fields.get(name, "").encode("utf-8", "surrogatepass")
        parts.append(b"%d:%s," % (len(value), value))
    return hashlib.sha256(b"".join(parts)).hexdigest()


def link_hash(prev: str, digest: str) -> str:
    """The ``hash`` of an entry with content digest ``digest`` appended after ``prev``."""
    return _sha256(prev + digest)


def entry_hash(fields: Mapping[str, str]) -> str:
    """The hash an entry's fields should carry, by its schema version."""
    if fields.get("v") == _V1:
        material = {key: value for key, value in fields.items() if key != "hash"}
        return _sha256(canonical_json(material))
    return link_hash(fields.get("prev", ""), content_digest(fields))


def content(record: AttemptStart | AttemptFinish, eid: str) -> dict[str, str]:
    """The fields of an entry before it is chained (no ``prev``/``hash`` yet)."""
    kind: Kind = "start" if isinstance(record, AttemptStart) else "finish"
    # ASCII escapes: a lone surrogate or any other odd string in the arguments is still stored.
    data = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {"v": SCHEMA_VERSION, "kind": kind, "eid": eid, "data": data}


def seal(unchained: Mapping[str, str], prev: str) -> dict[str, str]:
    """``unchained`` linked after an entry whose hash is ``prev``: adds ``prev`` and ``hash``.

    What the store's append script computes server-side; for tests and tools.
    """
    fields = {**unchained, "prev": prev}
    fields["hash"] = entry_hash(fields)
    return fields


def decode(fields: Mapping[str, str]) -> AttemptStart | AttemptFinish | None:
    """The attempt record an entry carries; None for entries this schema does not know."""
    kind = fields.get("kind")
    data = fields.get("data")
    if fields.get("v") not in (SCHEMA_VERSION, _V1) or data is None:
        return None
    model: type[AttemptStart] | type[AttemptFinish]
    if kind == "start":
        model = AttemptStart
    elif kind == "finish":
        model = AttemptFinish
    else:
        return None
    try:
        # json, not pydantic's parser: that one refuses the escaped lone surrogates data may hold.
        return model.model_validate(json.loads(data))
    except (ValueError, ValidationError):
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
