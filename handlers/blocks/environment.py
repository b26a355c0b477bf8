"""How a Slack message names its environment: one rendering for every message and dialog.

A bot with one environment (``default``, from the single-environment variables) shows nothing,
so its messages read as they always did. With several, every message, button and confirm dialog
names its environment, and a production one stands out: ``🔴 PROD``.
"""

from __future__ import annotations

from core.environments import Environment

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
