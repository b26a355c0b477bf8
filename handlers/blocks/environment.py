"""How a Slack message names its environment: one rendering for every message and dialog.

A bot with one environment (``default``, from the single-environment variables) shows nothing,
so its messages read as they always did. With several, every message, button and confirm dialog
names its environment, and a production one stands out: ``🔴 PROD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.environments import DEFAULT_ENVIRONMENT, Environment
from handlers.blocks.format import shorten_middle

PRODUCTION_MARK = "🔴"


def shown(env: Environment, several: bool) -> bool:
    """Whether messages about ``env`` name it: always for production, else with several."""
    return several or env.spec.production


def env_badge(env: Environment) -> str:
    """Plain text (fits a confirm title or a button): ``🔴 PROD`` or ``staging``."""
    return f"{PRODUCTION_MARK} {env.label}" if env.spec.production else env.label


def env_prefix(env: Environment, several: bool) -> str:
    """``"🔴 PROD · "`` before a headline, or ``""`` when the environment is not shown."""
    return f"{env_badge(env)} · " if shown(env, several) else ""


@dataclass(frozen=True)
class EnvTag:
    """What a renderer needs of a message's environment: its name (carried in button values
    and form metadata) and its badge when shown (``None``: the message names no environment)."""

    name: str = DEFAULT_ENVIRONMENT
    badge: str | None = None

    @property
    def prefix(self) -> str:
        """``"🔴 PROD · "`` before a headline, or ``""``."""
        return f"{self.badge} · " if self.badge else ""

    @property
    def emoji(self) -> bool | None:
        """For a plain-text object showing the badge (``None`` leaves it as it was)."""
        return True if self.badge else None

    def title(self, text: str, limit: int) -> str:
        """``text`` within ``limit`` characters after the prefix, which is never cut."""
        return self.prefix + shorten_middle(text, max(limit - len(self.prefix), 1))


#: A single-environment bot's messages: no badge, buttons as they always were.
NO_TAG = EnvTag()


def env_tag(env: Environment, several: bool) -> EnvTag:
    """The tag of ``env``'s messages (see :func:`shown`)."""
    return EnvTag(env.name, env_badge(env) if shown(env, several) else None)
