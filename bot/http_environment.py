"""Which Restate environment an HTTP request acts on, and which API key it presents there.

A request names its environment in the optional ``X-Restate-Environment`` header; without it, it
acts on the default environment (so the operator guide's curl examples run as written). Every
answer names the environment it acted on in the same header.

API keys are per environment (a staging key is not a prod key): :func:`authenticate` identifies
the key in the requested environment's keyring only. A key that another environment knows gets a
401 saying it is not valid here, rather than the message for a key nobody knows.

A request naming an unknown environment acted on none, so its refusal is audited through
:func:`unscoped_operations`, whose entries carry no environment (never another environment's).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from bot.metrics import MeteredAuditLog
from bot.services import Services
from core.audit import Actor
from core.authz import NO_ROLE, ApiKey
from core.environments import Environment, Environments
from core.errors import InvalidInput, OpsError, Unauthenticated
from core.operations import Operations

ENVIRONMENT_HEADER = "X-Restate-Environment"
API_KEY_HEADER = "x-api-key"
UNKNOWN_KEY = "Missing or unknown X-Api-Key."
#: At most this much of an unknown environment's name is kept in the audit entry.
MAX_NAME_CHARS = 64


def requested_name(request: Request) -> str | None:
    """The header's value, or None when it is absent or blank."""
    return request.headers.get(ENVIRONMENT_HEADER, "").strip() or None


def resolve(environments: Environments, request: Request) -> Environment:
    """The environment the request names, else the default; ``InvalidInput`` on the header."""
    try:
        return environments.resolve(requested_name(request))
    except InvalidInput as exc:
        raise InvalidInput(ENVIRONMENT_HEADER, exc.rule) from None


@dataclass(frozen=True)
class Caller:
    """The key a request presents: identified in its environment, or only in another one."""

    key: ApiKey | None
    #: The key's name in some other environment's keyring when ``key`` is None.
    elsewhere: str | None = None

    def refusal(self, env: Environment) -> Unauthenticated:
        """The 401 for a caller without a key valid in ``env``."""
        if self.elsewhere is not None:
            return Unauthenticated(
                f"This X-Api-Key is not valid for the environment {env.name}: "
                "each environment has its own API keys."
            )
        return Unauthenticated(UNKNOWN_KEY)


def authenticate(environments: Environments, env: Environment, request: Request) -> Caller:
    """The presented key in ``env``'s keyring (and, when absent there, whether another knows it)."""
    presented = request.headers.get(API_KEY_HEADER)
    key = env.spec.api_keys.identify(presented)
    if key is not None:
        return Caller(key)
    return Caller(None, known_anywhere(environments, presented))


def known_anywhere(environments: Environments, presented: str | None) -> str | None:
    """The name of the key in the first environment whose keyring knows it, else None."""
    for env in environments:
        key = env.spec.api_keys.identify(presented)
        if key is not None:
            return key.name
    return None


def unknown_environment_refusal(
    environments: Environments, request: Request, unknown: InvalidInput
) -> tuple[Actor | None, dict[str, str], OpsError]:
    """How a request naming an unknown environment is refused (audited under no environment):
    the actor (None: the anonymous caller), the arguments recorded, and the error.

    To a caller whose key some environment knows: ``unknown`` (422 on the header), as that key.
    To anyone else: the 401, learning no environment name, and nothing of what they sent kept.
    """
    name = known_anywhere(environments, request.headers.get(API_KEY_HEADER))
    if name is None:
        return None, {}, Unauthenticated(UNKNOWN_KEY)
    actor = Actor(id=name, surface="http", display_name=f"API key {name}", role=NO_ROLE)
    return actor, unknown_environment_args(request), unknown


def unscoped_operations(services: Services) -> Operations:
    """Operations that only refuse: their audit entries name no environment (no admin client)."""
    audit = MeteredAuditLog(services.audit, services.metrics)
    return Operations(admin=None, ingress=None, audit=audit)


def unknown_environment_args(request: Request) -> dict[str, str]:
    """What the refusal of an unknown environment records: the name asked for, truncated."""
    return {"environment": (requested_name(request) or "")[:MAX_NAME_CHARS]}


def response_headers(env: Environment | None) -> dict[str, str]:
    return {} if env is None else {ENVIRONMENT_HEADER: env.name}
