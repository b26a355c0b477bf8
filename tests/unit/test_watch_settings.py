"""The watch settings: documented defaults, and a lease that outlives a check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import SettingsError, load_settings
from bot.watch_wiring import thresholds
from core.watch.catalog import Thresholds


def test_the_defaults_are_the_readmes() -> None:
    """30 s checks, a 90 s lease, 2 checks to open and to clear, the rules' documented defaults."""
    settings = load_settings()
    assert (settings.watch_interval_s, settings.watch_lease_s) == (30.0, 90.0)
    assert (settings.watch_hold_checks, settings.watch_clear_checks) == (2, 2)
    assert thresholds(settings) == Thresholds(
        failure_window=timedelta(minutes=15),
        failures_min=1,
        paused_min=1,
        backing_off=timedelta(minutes=10),
        zombies_min=1,
        draining=timedelta(minutes=60),
    )


def test_a_lease_shorter_than_two_checks_stops_start_up() -> None:
    """The leader renews once per check, so a shorter lease would change hands between checks."""
    with pytest.raises(SettingsError, match="WATCH_LEASE_S: must be at least twice"):
        load_settings(watch_interval_s=30, watch_lease_s=45)
    assert load_settings(watch_interval_s=0, watch_lease_s=1).watch_interval_s == 0
