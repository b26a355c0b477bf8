"""Who may operate: the Slack allowlist and the HTTP API keys. Pure, Slack-agnostic.

The operator guide's "system operate permission" is the role ``operator``. Surfaces decide an
actor's role with the helpers here; ``core.operations`` refuses every operation to any other role.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

OPERATOR = "operator"
NO_ROLE = "none"
READ_ONLY = "read-only"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

log = logging.getLogger(__name__)


def can_operate(role: str) -> bool:
    return role == OPERATOR


@dataclass(frozen=True)
class Allowlist:
    """Slack user ids (``U…``/``W…``) and user-group ids (``S…``): immutable ids, never names."""

    user_ids: frozenset[str]
    group_ids: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        """Parse a comma-separated list; raises ``ValueError`` naming the bad entry."""
        entries = [part.strip() for part in text.split(",") if part.strip()]
        if not entries:
            raise ValueError("must list at least one Slack user id (U…/W…) or user group id (S…)")
        users, groups = set(), set()
        for entry in entries:
            if _USER_ID.fullmatch(entry):
                users.add(entry)
            elif _GROUP_ID.fullmatch(entry):
                groups.add(entry)
            else:
                raise ValueError(
                    f"{entry!r} is not a Slack user id (U…/W…) or user group id (S…); "
                    "use ids, never display names"
                )
        return cls(frozenset(users), frozenset(groups))


GroupMembers = Callable[[str], Awaitable[frozenset[str]]]


@dataclass
class GroupMembershipCache:
    """Caches user-group membership briefly; a failed lookup is never cached (fail closed)."""

    fetch: GroupMembers
    ttl_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    async def members(self, group_id: str) -> frozenset[str]:
        cached = self._entries.get(group_id)
        if cached and self.clock() - cached[0] < self.ttl_s:
            return cached[1]
        members = await self.fetch(group_id)
        self._entries[group_id] = (self.clock(), members)
        return members


async def slack_role(user_id: str, allowlist: Allowlist, members: GroupMembers) -> str:
    """``operator`` when the user is listed or in a listed group; a failed lookup denies."""
    if user_id in allowlist.user_ids:
        return OPERATOR
    for group_id in sorted(allowlist.group_ids):
        try:
            if user_id in await members(group_id):
                return OPERATOR
        except Exception:  # any lookup failure denies: fail closed, but say why in the logs
            log.warning("user group %s lookup failed; denying %s", group_id, user_id, exc_info=True)
    return NO_ROLE


@dataclass(frozen=True)
class ApiKey:
    name: str
    secret: str = field(repr=False)
    role: str


@dataclass(frozen=True)
class ApiKeyring:
    """API keys by name. Lookup compares against every key in constant time."""

    keys: tuple[ApiKey, ...]

    @classmethod
    def parse(cls, operate: str, read_only: str = "") -> ApiKeyring:
        """``name=key,name2=key2`` entries; ``operate`` keys get the operator role."""
        keys: list[ApiKey] = []
        for text, role in ((operate, OPERATOR), (read_only, READ_ONLY)):
            for entry in (part.strip() for part in text.split(",") if part.strip()):
                name, sep, secret = entry.partition("=")
                if not sep or not _KEY_NAME.fullmatch(name) or len(secret) < 16:
                    raise ValueError(
                        "each entry must be name=key with a name of letters, digits, '_', '.', '-'"
                        " and a key of at least 16 characters"
                    )
                keys.append(ApiKey(name, secret, role))
        names = [key.name for key in keys]
        if len(names) != len(set(names)):
            raise ValueError("API key names must be unique")
        return cls(tuple(keys))

    def identify(self, presented: str | None) -> ApiKey | None:
        if not presented:
            return None
        found: ApiKey | None = None
        for key in self.keys:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(key.secret.encode(), presented.encode()):
                found = key
        return found
