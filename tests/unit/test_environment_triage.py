"""Review findings: one accessor for an environment's triage, on every surface."""

from __future__ import annotations

from typing import cast

import pytest

from core.environments import Environment, EnvironmentSpec
from core.operations import Operations
from core.restate.client import RestateAdminClient
from core.triage.service import Triage


def _env(triage: Triage | None) -> Environment:
    admin = cast(RestateAdminClient, None)  # never called
    operations = cast(Operations, None)
    return Environment(EnvironmentSpec("staging", "http://s.test"), admin, None, operations, triage)


def test_an_environment_gives_its_own_triage() -> None:
    """Slack, HTTP and the CLI all take an environment's triage from it, never by name."""
    triage = cast(Triage, object())

    assert _env(triage).require_triage() is triage


def test_an_environment_built_without_triage_says_which() -> None:
    """A wiring mistake names the environment instead of failing later on None."""
    with pytest.raises(RuntimeError, match="staging was built without triage"):
        _env(None).require_triage()
