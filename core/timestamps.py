"""Timestamps: aware UTC ``datetime`` in every model, one ISO 8601 serializer at the edge.

Models type their moments as :data:`UtcTime`: strings (Restate's REST nanoseconds, its SQL
milliseconds, our own audit entries) are parsed once when a model is built, naive values are read
as UTC, and JSON always shows the operator guide's format, ``2026-05-09T10:07:19.000Z``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, PlainSerializer


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, as the operator guide writes them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(raw: str | None) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; None when absent or unreadable."""
    if not raw:
        return None
    try:
        return _utc(datetime.fromisoformat(raw))
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is read as UTC (Restate and our stores write UTC)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _as_utc(value: object) -> object:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)  # ``Z`` and 9 fractional digits read on 3.11+
    return _utc(value) if isinstance(value, datetime) else value


def _dumped(moment: datetime | str) -> str:
    # A string only arrives through model_copy(update=...), which skips validation.
    return iso_utc(moment if isinstance(moment, datetime) else _utc(datetime.fromisoformat(moment)))


UtcTime = Annotated[
    AwareDatetime,
    BeforeValidator(_as_utc),
    PlainSerializer(_dumped, return_type=str, when_used="json"),
]
