"""What the Slack listeners need from the rest of the bot, built once at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from core.audit import Actor, AuditLog
from core.authz import Allowlist, GroupMembershipCache, slack_role
from core.operations import Operations
from core.pending import PendingActions
from core.watch.control import WatchControl
from handlers.background import Background
from handlers.blocks.links import Links

#: A Bolt listener: Bolt injects its arguments by parameter name (ack, body, client, ...).
Listener = Callable[..., Awaitable[None]]
#: User-group membership is cached briefly: a removal from the group takes effect within this.
GROUP_CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class SlackDeps:
    operations: Operations
    pending: PendingActions
    audit: AuditLog
    allowlist: Allowlist
    groups: GroupMembershipCache
    #: Where listeners run their work after the ack.
    background: Background
    #: ``/restate watch|unwatch|snooze``; None when watching is turned off.
    watch: WatchControl | None = None
    #: Restate UI and runbook links in messages.
    links: Links = field(default_factory=Links)

    async def actor(self, user_id: str, display_name: str | None) -> Actor:
        """The Slack user as an audit actor, with the role the allowlist gives them right now."""
        role = await slack_role(user_id, self.allowlist, self.groups.members)
        return Actor(id=user_id, surface="slack", display_name=display_name, role=role)


def group_members(client: AsyncWebClient) -> GroupMembershipCache:
    """``usergroups.users.list`` behind a short cache; a failed lookup raises (and so denies)."""

    async def fetch(group_id: str) -> frozenset[str]:
        response = await client.usergroups_users_list(usergroup=group_id, include_disabled=False)
        return frozenset(str(user) for user in response.get("users") or [])

    return GroupMembershipCache(fetch, ttl_s=GROUP_CACHE_TTL_S)
