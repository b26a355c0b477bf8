"""Several Restate environments in one bot: what each is, and which one a request acts on.

An environment is one Restate cluster (``prod``, ``staging``, ``eu-west``) with its own admin,
ingress and UI URLs, its own operator allowlist and API keys (a staging operator is not a prod
operator) and the channels bound to it. Without a configuration file there is one, ``default``,
built from the single-environment variables, so everything behaves as before.

Which environment a request acts on is decided here and nowhere else (:meth:`Environments.resolve`):
the one it names, else the one its Slack channel is bound to, else the default. Something offered
from a readout (a button, a stored bulk action) acts on the environment the readout came from,
never on one named at click time: that environment is stored with the offer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.audit import AttemptFinish, AttemptStart, AttemptView, AuditLog
from core.authz import Allowlist, ApiKeyring
from core.errors import InvalidInput
from core.redact import redact_text

if TYPE_CHECKING:
    from core.operations import Operations
    from core.restate.client import RestateAdminClient, RestateIngressClient
    from core.triage.service import Triage
    from core.watch.control import WatchControl

DEFAULT_ENVIRONMENT = "default"
#: What ``/restate doctor all`` asks for; never an environment's name.
ALL_ENVIRONMENTS = "all"
NAME_RULE = "a lowercase letter, then up to 31 lowercase letters, digits, '-' or '_'"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def environment_of(view: AttemptView) -> str:
    """The environment an attempt acted on (``default`` for entries older than environments)."""
    return view.start.environment or DEFAULT_ENVIRONMENT


def valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and name != ALL_ENVIRONMENTS


def production_by_name(name: str) -> bool:
    """The default of ``production``: ``prod``, ``production``, ``prod-eu``, ``prod_us``…"""
    return name == "prod" or name.startswith(("prod-", "prod_", "production"))


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment's configuration, as plain values (bot's settings build it)."""

    name: str
    admin_url: str
    ingress_url: str | None = None
    #: The live durable workflow service URL that force-redeploy registers.
    service_url: str | None = None
    #: The Restate UI messages link to; None: the admin URL's ``/ui/``.
    ui_url: str | None = None
    probe_timeout_s: float = 5.0
    #: Slack users and groups who may operate here; None: nobody on Slack.
    allowlist: Allowlist | None = None
    api_keys: ApiKeyring = field(default_factory=lambda: ApiKeyring(()))
    #: Slack channels whose commands act here unless they name another environment.
    channels: frozenset[str] = frozenset()
    #: Shown distinctly (``PROD``) in every message, confirm dialog and readout.
    production: bool = False

    @property
    def label(self) -> str:
        """How messages name it: ``PROD`` for a production environment, else its name."""
        return self.name.upper() if self.production else self.name


@dataclass(frozen=True)
class Environment:
    """An environment's configuration and the use cases bound to its Restate server."""

    spec: EnvironmentSpec
    admin: RestateAdminClient
    ingress: RestateIngressClient | None
    operations: Operations
    #: Bulk actions on invocations; None only where a test leaves it out.
    triage: Triage | None = None
    #: ``/restate watch`` for this environment; None when watching is off.
    watch: WatchControl | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return self.spec.label

    def require_triage(self) -> Triage:
        """Its triage, which every environment the bot builds has (only tests leave it out)."""
        if self.triage is None:
            raise RuntimeError(f"the environment {self.name} was built without triage")
        return self.triage


class Environments:
    """Every configured environment, the default among them, and the channel bindings."""

    def __init__(self, environments: list[Environment], default: str) -> None:
        if not environments:
            raise ValueError("at least one environment is required")
        self._by_name = {env.name: env for env in environments}
        if len(self._by_name) != len(environments):
            raise ValueError("environment names must be unique")
        if default not in self._by_name:
            raise ValueError(f"the default environment {default!r} is not configured")
        self._default = self._by_name[default]
        self._by_channel: dict[str, Environment] = {}
        for env in environments:
            for channel in env.spec.channels:
                if channel in self._by_channel:
                    raise ValueError(
                        f"channel {channel} is bound to both {self._by_channel[channel].name} "
                        f"and {env.name}"
                    )
                self._by_channel[channel] = env

    @property
    def default(self) -> Environment:
        return self._default

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    @property
    def several(self) -> bool:
        """More than one: messages then name the environment in their headline."""
        return len(self._by_name) > 1

    def __iter__(self) -> Iterator[Environment]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Environment:
        """The environment called ``name``; ``InvalidInput`` on ``environment`` otherwise."""
        env = self._by_name.get(name)
        if env is None:
            raise InvalidInput("environment", f"must be one of {', '.join(self._by_name)}")
        return env

    def resolve(self, name: str | None = None, *, channel: str | None = None) -> Environment:
        """The one named, else the one ``channel`` is bound to, else the default."""
        if name:
            return self.get(name)
        if channel and channel in self._by_channel:
            return self._by_channel[channel]
        return self._default

    def bound_to(self, channel: str) -> Environment | None:
        return self._by_channel.get(channel)


class EnvironmentAudit:
    """An environment's view of the one audit log: every start it records names the environment.

    Each environment's use cases record through one of these, so no entry can leave out or
    misname its environment, whatever the surface or the use case.
    """

    def __init__(self, audit: AuditLog, environment: str) -> None:
        self._audit = audit
        self._environment = environment

    async def record_start(self, start: AttemptStart) -> None:
        await self._audit.record_start(start.model_copy(update={"environment": self._environment}))

    async def record_finish(self, finish: AttemptFinish) -> bool:
        return await self._audit.record_finish(finish)

    async def latest(self, count: int) -> list[AttemptView]:
        """This environment's attempts among the log's latest ``count``: what its watch names
        as an alert's last action is never another environment's write."""
        views = await self._audit.latest(count)
        return [view for view in views if environment_of(view) == self._environment]


def spec_summary(spec: EnvironmentSpec) -> Mapping[str, object]:
    """What ``config check`` prints of an environment: no secret, only counts of keys."""
    return {
        "name": spec.name,
        "production": spec.production,
        "adminUrl": redact_text(spec.admin_url),
        "ingressUrl": _shown(spec.ingress_url),
        "serviceUrl": _shown(spec.service_url),
        "uiUrl": _shown(spec.ui_url),
        "probeTimeoutS": spec.probe_timeout_s,
        "operators": 0
        if spec.allowlist is None
        else len(spec.allowlist.user_ids) + len(spec.allowlist.group_ids),
        "apiKeys": len(spec.api_keys.keys),
        "channels": sorted(spec.channels),
    }


def _shown(url: str | None) -> str | None:
    return None if url is None else redact_text(url)
