"""Who may operate: allowlist parsing, group lookups that fail closed, API keys."""

from __future__ import annotations

import pytest

from core.authz import (
    NO_ROLE,
    OPERATOR,
    READ_ONLY,
    Allowlist,
    ApiKeyring,
    GroupMembershipCache,
    slack_role,
)


def test_allowlist_splits_users_and_groups() -> None:
    """User ids (U/W) and user-group ids (S) are told apart."""
    allowlist = Allowlist.parse(" U01ALICE, W02BOB ,S03ONCALL ")
    assert allowlist.user_ids == {"U01ALICE", "W02BOB"}
    assert allowlist.group_ids == {"S03ONCALL"}


@pytest.mark.parametrize("text", ["", " , ", "@alice", "U01ALICE,alice"])
def test_allowlist_rejects_empty_lists_and_names(text: str) -> None:
    """An empty allowlist or a display name is a start-up error."""
    with pytest.raises(ValueError, match="Slack user id"):
        Allowlist.parse(text)


async def test_group_members_are_operators_and_failed_lookups_deny() -> None:
    """A user in a listed group operates; when the lookup fails the user is denied."""
    allowlist = Allowlist.parse("U01ALICE,S03ONCALL")

    async def members(group: str) -> frozenset[str]:
        return frozenset({"U09CAROL"})

    async def broken(group: str) -> frozenset[str]:
        raise RuntimeError("slack is down")

    assert await slack_role("U01ALICE", allowlist, broken) == OPERATOR
    assert await slack_role("U09CAROL", allowlist, members) == OPERATOR
    assert await slack_role("U09CAROL", allowlist, broken) == NO_ROLE
    assert await slack_role("U08MALLORY", allowlist, members) == NO_ROLE


async def test_group_cache_reuses_fresh_answers_and_refreshes_stale_ones() -> None:
    """Membership is fetched once per TTL window."""
    calls: list[str] = []
    now = [0.0]

    async def fetch(group: str) -> frozenset[str]:
        calls.append(group)
        return frozenset({f"U{len(calls)}X"})

    cache = GroupMembershipCache(fetch, ttl_s=60, clock=lambda: now[0])
    assert await cache.members("S1") == {"U1X"}
    now[0] = 30
    assert await cache.members("S1") == {"U1X"}
    now[0] = 61
    assert await cache.members("S1") == {"U2X"}
    assert calls == ["S1", "S1"]


def test_api_keys_identify_names_and_roles() -> None:
    """A presented key maps to its name and role; unknown and empty keys map to nothing."""
    ring = ApiKeyring.parse(
        "deploy-bot=sm_dalp_operator_1234567890", "viewer=sm_dalp_viewer_123456789"
    )
    operator = ring.identify("sm_dalp_operator_1234567890")
    viewer = ring.identify("sm_dalp_viewer_123456789")
    assert operator is not None
    assert (operator.name, operator.role) == ("deploy-bot", OPERATOR)
    assert viewer is not None
    assert (viewer.name, viewer.role) == ("viewer", READ_ONLY)
    assert ring.identify("sm_dalp_operator_1234567891") is None
    assert ring.identify("") is None
    assert "sm_dalp" not in repr(ring)


@pytest.mark.parametrize(
    "text",
    ["noequals", "bad name=abcdefghijklmnop", "a=short", "a=abcdefghijklmnop,a=qrstuvwxyz123456"],
)
def test_malformed_api_key_lists_are_rejected(text: str) -> None:
    """Key lists must be unique name=key pairs with long keys."""
    with pytest.raises(ValueError, match="name"):
        ApiKeyring.parse(text)
