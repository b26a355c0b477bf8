"""Who the bot is in Slack (``auth.test``), learned off the acknowledgement's path.

Bolt's default single-workspace authorization calls ``auth.test`` before the first listener
runs, on the path of the acknowledgement: a slow, hanging or failing Slack Web API then delays
(or, answered with an error, replaces with "please reinstall this app") the ack of the first
command after a start, and of every command until ``auth.test`` succeeds. :class:`BotIdentity` is
Bolt's ``authorize`` instead: it answers at once with the bot token, and with the bot's user id
once a background ``auth.test`` has answered (only the "/invite @bot" hint uses it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.background import Background

log = logging.getLogger(__name__)


class BotIdentity:
    def __init__(self, client: AsyncWebClient, background: Background) -> None:
        self._client = client
        self._background = background
        self._bot_user_id: str | None = None
        self._bot_id: str | None = None
        self._looking_up = False

    def authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's ``authorize`` function; it never waits for Slack.

        A plain function, not a bound method: Bolt injects arguments by their names and would
        treat ``self`` as one.
        """

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            if self._bot_user_id is None and not self._looking_up:
                self._looking_up = True
                self._background.start(self._look_up(), name="slack-auth-test")
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                bot_token=self._client.token,
                bot_id=self._bot_id,
                bot_user_id=self._bot_user_id,
            )

        return authorize

    async def _look_up(self) -> None:
        try:
            answer = await self._client.auth_test()
            self._bot_user_id = str(answer.get("user_id") or "") or None
            self._bot_id = str(answer.get("bot_id") or "") or None
        except (SlackClientError, OSError, TimeoutError) as exc:
            log.warning("auth.test failed (%s); asked again with the next request", exc)
        finally:
            self._looking_up = False
