"""Configuration from the environment (and ``.env``), validated once at start-up.

Every variable is documented in the README's configuration table. Errors name the variable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.authz import Allowlist, ApiKeyring
from core.models import require_http_url


class SettingsError(Exception):
    """Start-up configuration is missing or malformed; the message names each variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Restate
    restate_admin_url: str = "http://127.0.0.1:9070"
    restate_ingress_url: str | None = "http://127.0.0.1:8080"
    #: The live durable workflow service URL that force-redeploy registers (advice uses it).
    restate_service_url: str | None = None
    probe_timeout_s: float = Field(default=5.0, gt=0, le=60)

    # Redis: audit stream and pending Slack actions
    redis_url: str = "redis://127.0.0.1:6379/0"
    audit_stream: str = "restate-ops:audit"
    #: Keep audit entries this many days; unset keeps everything.
    audit_retention_days: float | None = Field(default=None, gt=0)
    pending_action_ttl_s: int = Field(default=900, gt=0)

    # Slack (all optional: without SLACK_BOT_TOKEN the bot serves only the HTTP routes)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    operator_allowlist: str = ""

    # HTTP operator routes
    operator_api_keys: SecretStr = SecretStr("")
    readonly_api_keys: SecretStr = SecretStr("")

    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))

    @field_validator("restate_admin_url", "restate_ingress_url", "restate_service_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        # The same rule the routes apply to serviceUrl: absolute http(s) with a host.
        return require_http_url("URL", value)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        require_http_url("URL", value)
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _slack_needs_allowlist(self) -> Self:
        if self.slack_bot_token is not None:
            if self.slack_signing_secret is None and self.slack_app_token is None:
                raise ValueError(
                    "SLACK_SIGNING_SECRET is required for HTTP mode (or set SLACK_APP_TOKEN "
                    "for Socket Mode)"
                )
            Allowlist.parse(self.operator_allowlist)
        return self

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_enabled and self.slack_app_token is not None

    @property
    def allowlist(self) -> Allowlist:
        return Allowlist.parse(self.operator_allowlist)

    @property
    def api_keys(self) -> ApiKeyring:
        return ApiKeyring.parse(
            self.operator_api_keys.get_secret_value(), self.readonly_api_keys.get_secret_value()
        )

    @property
    def audit_retention(self) -> timedelta | None:
        if self.audit_retention_days is None:
            return None
        return timedelta(days=self.audit_retention_days)


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; raise ``SettingsError`` that names each bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.api_keys  # noqa: B018 - parse now so a bad key list fails at start-up
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = "_".join(str(part) for part in error["loc"]).upper() or "configuration"
            lines.append(f"{variable}: {str(error['msg']).removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from exc
    except ValueError as exc:
        raise SettingsError(f"OPERATOR_API_KEYS / READONLY_API_KEYS: {exc}") from exc
    return settings
