"""SQL literals for Restate's ``/query`` endpoint, which has no bind parameters.

Every interpolated value goes through :func:`literal`: validated first, then quote-escaped the only
way DataFusion understands (``'`` doubled; backslashes are not escapes).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeLiteral(ValueError):
    """A value that must never reach a SQL string (control characters, NUL)."""


def literal(value: str) -> str:
    """Quote ``value`` as a SQL string literal after rejecting control characters."""
    if _CONTROL.search(value):
        raise UnsafeLiteral("control characters are not allowed in SQL literals")
    return "'" + value.replace("'", "''") + "'"
