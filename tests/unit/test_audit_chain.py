"""The hash chain links every audit entry to the one before it, and the walker finds breaks."""

from __future__ import annotations

import hashlib

from core.audit import Actor, AttemptFinish, AttemptStart
from core.audit.chain import (
    GENESIS,
    ChainWalker,
    canonical_json,
    content,
    decode,
    entry_hash,
    seal,
)

START = AttemptStart(
    attempt_id="att_1",
    request_id="req_1",
    actor=Actor(id="U1", surface="slack", display_name="alice", role="operator"),
    route="force-redeploy",
    args={"serviceUrl": "http://ddwf:9080/v1", "force": True},
    started_at="2026-05-09T10:07:19.000Z",
)
FINISH = AttemptFinish(
    attempt_id="att_1",
    request_id="req_1",
    outcome="succeeded",
    finished_at="2026-05-09T10:07:20.000Z",
)


def chain(count: int) -> list[tuple[str, dict[str, str]]]:
    entries: list[tuple[str, dict[str, str]]] = []
    prev = GENESIS
    for n in range(count):
        fields = seal(content(START if n % 2 == 0 else FINISH, f"eid{n}"), prev)
        entries.append((f"1000-{n}", fields))
        prev = fields["hash"]
    return entries


def walk(entries: list[tuple[str, dict[str, str]]], head: str = GENESIS) -> ChainWalker:
    walker = ChainWalker(head, trimmed=head != GENESIS)
    for entry_id, fields in entries:
        walker.feed(entry_id, fields)
    return walker


def test_hash_is_sha256_of_the_canonical_fields_including_prev() -> None:
    """Anyone can recompute an entry's hash with hashlib from the fields Redis stores."""
    fields = seal({"v": "1", "kind": "start", "eid": "e", "data": "{}"}, GENESIS)
    material = '{"data":"{}","eid":"e","kind":"start","prev":"' + GENESIS + '","v":"1"}'
    assert hashlib.sha256(material.encode()).hexdigest() == fields["hash"] == entry_hash(fields)


def test_entries_decode_back_to_the_records_they_carry() -> None:
    """A start and a finish survive the trip through the stream's string fields unchanged."""
    assert decode(seal(content(START, "e1"), GENESIS)) == START
    assert decode(seal(content(FINISH, "e2"), GENESIS)) == FINISH
    assert decode({"v": "2", "kind": "start", "data": "{}"}) is None


def test_canonical_json_is_stable() -> None:
    """Key order and spacing never change the canonical form."""
    assert canonical_json({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'


def test_an_intact_chain_has_no_broken_link() -> None:
    """Entries sealed one after another verify in order."""
    walker = walk(chain(5))
    assert (walker.count, walker.first_broken) == (5, None)


def test_a_modified_entry_is_reported_as_modified() -> None:
    """Changing an entry's content without its hash breaks that entry."""
    entries = chain(5)
    entries[2][1]["data"] = entries[2][1]["data"].replace("alice", "mallory")
    broken = walk(entries).first_broken
    assert broken is not None
    assert (
        broken.entry_id,
        broken.reason,
    ) == ("1000-2", "content does not match its hash: the entry was modified")


def test_a_removed_entry_breaks_the_link_of_the_next_one() -> None:
    """Deleting an entry leaves its successor pointing at a hash nobody has."""
    entries = chain(5)
    del entries[2]
    broken = walk(entries).first_broken
    assert broken is not None
    assert broken.entry_id == "1000-3"
    assert broken.reason.startswith("missing link: prev is not the hash of entry 1000-1")


def test_a_chain_must_start_at_genesis_or_at_the_trim_anchor() -> None:
    """Head deletions are caught; a recorded retention trim is accepted."""
    entries = chain(5)
    anchor = entries[2][1]["prev"]
    without_head = walk(entries[2:]).first_broken
    assert without_head is not None
    assert without_head.reason == "does not start the chain: entries before it were deleted"
    assert walk(entries[2:], head=anchor).first_broken is None
    after_trim = walk(entries[3:], head=anchor).first_broken
    assert after_trim is not None
    assert after_trim.reason.startswith("does not follow the last retention trim")
