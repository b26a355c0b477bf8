"""Review findings: one refusal of an unknown X-Restate-Environment for every HTTP route."""

from __future__ import annotations

from typing import cast

from starlette.requests import Request

from bot.http_environment import unknown_environment_refusal
from core.authz import OPERATOR, ApiKeyring
from core.environments import Environment, Environments, EnvironmentSpec
from core.errors import InvalidInput, Unauthenticated
from core.operations import Operations
from core.restate.client import RestateAdminClient

STAGING_KEY = "staging-operator-key-0123456789"


def _environments() -> Environments:
    spec = EnvironmentSpec(
        "staging", "http://s.test", api_keys=ApiKeyring.parse(f"ci={STAGING_KEY}")
    )
    env = Environment(spec, cast(RestateAdminClient, None), None, cast(Operations, None))
    return Environments([env], "staging")


def _request(key: str) -> Request:
    headers = [(b"x-api-key", key.encode()), (b"x-restate-environment", b"qa")]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def test_a_key_some_environment_knows_learns_the_names_as_that_key() -> None:
    """A staging key naming 'qa' is refused on the header (422), audited as the key ci."""
    unknown = InvalidInput("X-Restate-Environment", "must be one of staging")

    actor, args, error = unknown_environment_refusal(
        _environments(), _request(STAGING_KEY), unknown
    )

    assert actor is not None
    assert (actor.id, actor.role != OPERATOR) == ("ci", True)
    assert args == {"environment": "qa"}
    assert error is unknown


def test_a_stranger_gets_the_401_and_nothing_they_sent_is_kept() -> None:
    """An unknown key naming 'qa' gets 401 and learns no environment name."""
    unknown = InvalidInput("X-Restate-Environment", "must be one of staging")

    actor, args, error = unknown_environment_refusal(
        _environments(), _request("not-a-key-at-all-0123"), unknown
    )

    assert (actor, args) == (None, {})
    assert isinstance(error, Unauthenticated)
    assert "staging" not in error.message
