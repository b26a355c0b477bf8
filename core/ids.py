"""Identifiers that sort by time and can be quoted to support: request ids, attempt ids."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """``<prefix>_<ms timestamp, hex><80 random bits, hex>``: unique, time-ordered, URL-safe."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def new_request_id() -> str:
    return new_id("req")
