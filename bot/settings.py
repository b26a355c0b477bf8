"""Configuration from the environment (and ``.env``), typed and validated once at start-up.

Every variable is documented in the README's configuration table. URLs are URL types, the
allowlist and the API key ring are parsed here, secrets are ``SecretStr``. An *optional* setting
that is empty counts as unset; a setting with a default must not be empty. Every error names its
variable and never echoes a secret: :func:`load_settings` turns them into one ``SettingsError``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AliasChoices,
    AnyUrl,
    BeforeValidator,
    Field,
    HttpUrl,
    InstanceOf,
    PrivateAttr,
    SecretStr,
    UrlConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config_file import ConfigFileError, load_environments
from core.authz import Allowlist, ApiKeyring
from core.environments import DEFAULT_ENVIRONMENT, EnvironmentSpec
from core.triage.names import ACTION_NAMES

log = logging.getLogger(__name__)

#: The single-environment variables: without ``RESTATE_OPS_CONFIG`` they are the environment
#: ``default``; with it, the file's environments replace them.
SINGLE_ENVIRONMENT_FIELDS = (
    "restate_admin_url",
    "restate_ingress_url",
    "restate_service_url",
    "probe_timeout_s",
    "restate_ui_url",
    "operator_allowlist",
    "operator_api_keys",
    "readonly_api_keys",
)


class SettingsError(Exception):
    """Start-up configuration is missing or malformed; the message names each variable."""


def _empty_is_unset(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: An optional setting: an empty value (``VAR=``) is the same as leaving it out.
EmptyIsUnset = BeforeValidator(_empty_is_unset)
#: redis-py's URL schemes (``unix://`` included, which pydantic's ``RedisDsn`` refuses).
RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    #: The environments file (TOML, ``bot.config_file``); unset: one environment, ``default``,
    #: from the single-environment variables below.
    restate_ops_config: Annotated[Path | None, EmptyIsUnset] = None

    # Restate (the environment ``default``, when there is no environments file)
    restate_admin_url: HttpUrl = HttpUrl("http://127.0.0.1:9070")
    #: Probed by doctor; empty: not probed.
    restate_ingress_url: Annotated[HttpUrl | None, EmptyIsUnset] = HttpUrl("http://127.0.0.1:8080")
    #: The live durable workflow service URL that force-redeploy registers (advice uses it).
    restate_service_url: Annotated[HttpUrl | None, EmptyIsUnset] = None
    probe_timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: The Restate UI that Slack messages link to; unset: the admin URL's ``/ui/``.
    restate_ui_url: Annotated[HttpUrl | None, EmptyIsUnset] = None
    #: A runbook linked from Slack messages; unset: no runbook link.
    runbook_url: Annotated[HttpUrl | None, EmptyIsUnset] = None

    # Redis: audit stream and pending Slack actions
    redis_url: RedisUrl = AnyUrl("redis://127.0.0.1:6379/0")
    audit_stream: str = Field(default="restate-ops:audit", min_length=1)
    #: Keep audit entries this many days; unset keeps everything.
    audit_retention_days: Annotated[float | None, EmptyIsUnset] = Field(default=None, gt=0)
    pending_action_ttl_s: int = Field(default=900, gt=0)

    # Slack (all optional: without SLACK_BOT_TOKEN the bot serves only the HTTP routes)
    slack_bot_token: Annotated[SecretStr | None, EmptyIsUnset] = None
    slack_signing_secret: Annotated[SecretStr | None, EmptyIsUnset] = None
    slack_app_token: Annotated[SecretStr | None, EmptyIsUnset] = None
    slack_api_url: HttpUrl = HttpUrl("https://slack.com/api/")
    #: Parsed from ``U…,W…,S…``; ``None`` when unset (required once Slack is on).
    operator_allowlist: Annotated[InstanceOf[Allowlist] | None, NoDecode, EmptyIsUnset] = None

    # HTTP operator routes: ``name=key,…`` (the ring of both is built by the model validator)
    operator_api_keys: SecretStr = SecretStr("")
    readonly_api_keys: SecretStr = SecretStr("")

    # Watch: doctor on a timer, alerts in subscribed channels (0 turns it off)
    watch_interval_s: float = Field(default=30.0, ge=0)
    #: The leader lease; another replica takes over within this after the leader dies.
    watch_lease_s: float = Field(default=90.0, gt=0)
    watch_hold_checks: int = Field(default=2, ge=1, le=100)
    watch_clear_checks: int = Field(default=2, ge=1, le=100)
    watch_failure_window_min: float = Field(default=15.0, gt=0)
    watch_failures_min: int = Field(default=1, ge=1)
    watch_paused_min: int = Field(default=1, ge=1)
    watch_backing_off_min: float = Field(default=10.0, gt=0)
    watch_zombies_min: int = Field(default=1, ge=1)
    watch_draining_min: float = Field(default=60.0, gt=0)
    watch_prefix: str = Field(default="restate-ops:watch:", min_length=1)
    # Triage: bulk actions on invocations (README "Triage")
    triage_concurrency: int = Field(default=8, ge=1, le=64)
    #: Actions a second operator must approve (``kill,purge,recover``); empty: none.
    triage_two_person_actions: Annotated[frozenset[str], NoDecode] = frozenset(
        {"kill", "purge", "recover"}
    )
    triage_approval_ttl_s: int = Field(default=600, gt=0)
    #: A cleanup with forceDrain waits for a second operator's approval (README "Two-person rule").
    two_person_force_drain: bool = True

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))

    _api_keys: ApiKeyring = PrivateAttr(default_factory=lambda: ApiKeyring(()))

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: HttpUrl) -> HttpUrl:
        # slack_sdk joins method names straight onto the base URL.
        text = str(value)
        return value if text.endswith("/") else HttpUrl(text + "/")

    @field_validator("operator_allowlist", mode="before")
    @classmethod
    def _allowlist(cls, value: Any) -> Any:
        return Allowlist.parse(value) if isinstance(value, str) and value.strip() else value

    @field_validator("triage_two_person_actions", mode="before")
    @classmethod
    def _action_names(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        names = frozenset(part.strip() for part in value.split(",") if part.strip())
        unknown = sorted(names - set(ACTION_NAMES))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not one of {', '.join(ACTION_NAMES)}")
        return names

    @field_validator("operator_api_keys", "readonly_api_keys")
    @classmethod
    def _key_entries(cls, value: SecretStr) -> SecretStr:
        ApiKeyring.parse(value.get_secret_value())  # each entry's shape, named by its variable
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> Self:
        try:
            self._api_keys = ApiKeyring.parse(
                self.operator_api_keys.get_secret_value(),
                self.readonly_api_keys.get_secret_value(),
            )
        except ValueError as exc:
            raise ValueError(f"OPERATOR_API_KEYS / READONLY_API_KEYS: {exc}") from None
        if self.slack_bot_token is not None:
            if self.slack_signing_secret is None and self.slack_app_token is None:
                raise ValueError(
                    "SLACK_SIGNING_SECRET: required for HTTP mode (or set SLACK_APP_TOKEN "
                    "for Socket Mode)"
                )
            if self.operator_allowlist is None and self.restate_ops_config is None:
                raise ValueError(
                    "OPERATOR_ALLOWLIST: must list at least one Slack user id (U…/W…) or user "
                    "group id (S…) when SLACK_BOT_TOKEN is set"
                )
        return self

    @model_validator(mode="after")
    def _lease_outlives_a_check(self) -> Self:
        if self.watch_interval_s and self.watch_lease_s < 2 * self.watch_interval_s:
            raise ValueError(
                "WATCH_LEASE_S: must be at least twice WATCH_INTERVAL_S (the leader renews it "
                "once per check, and a check takes time)"
            )
        return self

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_enabled and self.slack_app_token is not None

    @property
    def allowlist(self) -> Allowlist:
        """The operator allowlist; raises ``ValueError`` when none is configured."""
        if self.operator_allowlist is None:
            return Allowlist.parse("")  # raises: an empty list authorizes nobody
        return self.operator_allowlist

    @property
    def api_keys(self) -> ApiKeyring:
        return self._api_keys

    @property
    def audit_retention(self) -> timedelta | None:
        if self.audit_retention_days is None:
            return None
        return timedelta(days=self.audit_retention_days)


def environment_specs(settings: Settings) -> tuple[list[EnvironmentSpec], str]:
    """The configured environments and the default's name; ``SettingsError`` naming file, line
    and key when the environments file is bad."""
    if settings.restate_ops_config is None:
        return [_single_environment(settings)], DEFAULT_ENVIRONMENT
    try:
        specs, default = load_environments(
            settings.restate_ops_config, slack=settings.slack_enabled
        )
    except ConfigFileError as exc:
        raise SettingsError(f"RESTATE_OPS_CONFIG: {exc}") from None
    ignored = sorted(
        name.upper() for name in settings.model_fields_set & set(SINGLE_ENVIRONMENT_FIELDS)
    )
    if ignored:
        log.warning(
            "%s set but ignored: %s defines the environments (reference a variable from the "
            'file with { env = "NAME" })',
            ", ".join(ignored),
            settings.restate_ops_config,
        )
    return specs, default


def _single_environment(settings: Settings) -> EnvironmentSpec:
    def text(url: object | None) -> str | None:
        return None if url is None else str(url)

    return EnvironmentSpec(
        name=DEFAULT_ENVIRONMENT,
        admin_url=str(settings.restate_admin_url),
        ingress_url=text(settings.restate_ingress_url),
        service_url=text(settings.restate_service_url),
        ui_url=text(settings.restate_ui_url),
        probe_timeout_s=settings.probe_timeout_s,
        allowlist=settings.operator_allowlist,
        api_keys=settings.api_keys,
        production=False,
    )


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; raise ``SettingsError`` that names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError("\n".join(_describe(error) for error in exc.errors())) from None


def _describe(error: ErrorDetails) -> str:
    """``VARIABLE: what is wrong``; cross-field messages already start with their variables."""
    message = str(error["msg"]).removeprefix("Value error, ")
    variable = str(error["loc"][0]).upper() if error["loc"] else ""
    if error["type"] == "missing":
        message = "is required"
    return f"{variable}: {message}" if variable else message
