"""What the Slack listeners need from the rest of the bot, built once at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from core.audit import Actor, AuditLog
from core.authz import NO_ROLE, GroupMembershipCache, slack_role
from core.environments import Environment, Environments
from core.pending import PendingActions
from handlers.background import Background
from handlers.blocks.environment import EnvTag, env_tag
from handlers.blocks.links import Links, ui_url_for

#: A Bolt listener: Bolt injects its arguments by parameter name (ack, body, client, ...).
Listener = Callable[..., Awaitable[None]]
#: User-group membership is cached briefly: a removal from the group takes effect within this.
GROUP_CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class SlackDeps:
    environments: Environments
    pending: PendingActions
    audit: AuditLog
    groups: GroupMembershipCache
    #: Where listeners run their work after the ack.
    background: Background
    #: A runbook linked from messages; None: no runbook link.
    runbook_url: str | None = None

    def env(self, name: str | None = None, *, channel: str | None = None) -> Environment:
        """The environment named, else the channel's, else the default (``InvalidInput``)."""
        return self.environments.resolve(name, channel=channel)

    async def actor(self, user_id: str, display_name: str | None, env: Environment) -> Actor:
        """The Slack user as an audit actor, with the role ``env``'s allowlist gives them now.

        Each environment has its own allowlist: a staging operator is not a prod operator, so
        the environment is always given (never the default one by omission).
        """
        allowlist = env.spec.allowlist
        role = (
            NO_ROLE
            if allowlist is None
            else await slack_role(user_id, allowlist, self.groups.members)
        )
        return Actor(id=user_id, surface="slack", display_name=display_name, role=role)

    def tag(self, env: Environment) -> EnvTag:
        """How ``env``'s messages name it (nothing in a single-environment bot)."""
        return env_tag(env, self.environments.several)

    def links(self, env: Environment) -> Links:
        """Links to ``env``'s Restate UI (and the runbook) for its messages."""
        spec = env.spec
        return Links(
            ui_url=spec.ui_url or ui_url_for(spec.admin_url),
            runbook_url=self.runbook_url,
            admin_url=spec.admin_url,
        )


def group_members(client: AsyncWebClient) -> GroupMembershipCache:
    """``usergroups.users.list`` behind a short cache; a failed lookup raises (and so denies)."""

    async def fetch(group_id: str) -> frozenset[str]:
        response = await client.usergroups_users_list(usergroup=group_id, include_disabled=False)
        return frozenset(str(user) for user in response.get("users") or [])

    return GroupMembershipCache(fetch, ttl_s=GROUP_CACHE_TTL_S)
