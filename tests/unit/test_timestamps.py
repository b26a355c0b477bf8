"""Timestamps are aware UTC datetimes in models and one ISO 8601 format in JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.models import DeploymentItem, to_json_dict
from core.timestamps import parse_utc


@pytest.mark.parametrize(
    "raw",
    [
        "2026-05-09T10:00:00.527000000Z",  # Restate's REST answers: nanoseconds
        "2026-05-09T10:00:00.527Z",  # its SQL answers: milliseconds
        "2026-05-09T12:00:00.527+02:00",  # another zone
        "2026-05-09T10:00:00.527",  # naive: read as UTC
    ],
)
def test_every_spelling_becomes_one_aware_moment_and_one_json_string(raw: str) -> None:
    """A timestamp is parsed once into an aware UTC datetime and always dumped the same way."""
    item = DeploymentItem(id="dp_1", service_url="http://a/", created_at=raw)

    assert item.created_at == datetime(2026, 5, 9, 10, 0, 0, 527000, tzinfo=UTC)
    assert to_json_dict(item)["createdAt"] == "2026-05-09T10:00:00.527Z"


def test_an_unreadable_timestamp_from_restate_is_unknown() -> None:
    """parse_utc turns what it cannot read into None rather than failing the readout."""
    assert (parse_utc("yesterday"), parse_utc(None), parse_utc("")) == (None, None, None)


def test_an_aware_datetime_keeps_its_moment() -> None:
    """A moment given in another zone is the same instant in UTC."""
    paris = datetime(2026, 5, 9, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    item = DeploymentItem(id="dp_1", service_url="http://a/", created_at=paris)

    assert item.created_at == datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
