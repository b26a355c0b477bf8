"""The bulk actions' names, with no other import: settings validate against them at start-up."""

from __future__ import annotations

from typing import Literal

ActionName = Literal["kill", "cancel", "purge", "pause", "resume", "recover", "restart-as-new"]
ACTION_NAMES: tuple[ActionName, ...] = (
    "kill",
    "cancel",
    "purge",
    "pause",
    "resume",
    "recover",
    "restart-as-new",
)
