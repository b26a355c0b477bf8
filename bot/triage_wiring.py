"""Build the triage use cases from the running services (one place for HTTP, Slack and the CLI).

Its settings are read here, validated at start-up like the others, and documented in the
README's Triage section:

| variable | default | meaning |
|---|---|---|
| `TRIAGE_CONCURRENCY` | `8` | admin calls in flight during one bulk action |
| `TRIAGE_TWO_PERSON_ACTIONS` | `kill,purge,recover` | actions a second operator approves |
| `TRIAGE_APPROVAL_TTL_S` | `600` | how long an approval stays valid before the action must be run |
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.services import Services
from bot.settings import SettingsError
from core.triage.models import ACTION_NAMES
from core.triage.service import Triage, TriageConfig
from core.triage.store import BulkActionStore


class TriageSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=".env", extra="ignore", case_sensitive=False
    )

    concurrency: int = Field(default=8, ge=1, le=64)
    two_person_actions: str = "kill,purge,recover"
    approval_ttl_s: int = Field(default=600, gt=0)

    @field_validator("two_person_actions")
    @classmethod
    def _actions(cls, value: str) -> str:
        for name in (part.strip() for part in value.split(",") if part.strip()):
            if name not in ACTION_NAMES:
                raise ValueError(f"{name!r} is not one of {', '.join(ACTION_NAMES)}")
        return value

    @property
    def two_person(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.two_person_actions.split(",") if p.strip())


def load_triage_settings() -> TriageSettings:
    try:
        return TriageSettings()
    except ValidationError as exc:
        lines = [
            f"TRIAGE_{'_'.join(str(p) for p in e['loc']).upper()}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise SettingsError("\n".join(lines)) from exc


def build_triage(services: Services, settings: TriageSettings | None = None) -> Triage:
    settings = settings or load_triage_settings()
    ttl = timedelta(seconds=services.settings.pending_action_ttl_s)
    store = BulkActionStore(
        services.redis, ttl=ttl, approval_ttl=timedelta(seconds=settings.approval_ttl_s)
    )
    return Triage(
        admin=services.admin,
        audit=services.audit,
        store=store,
        config=TriageConfig(concurrency=settings.concurrency, two_person=settings.two_person),
        action_ttl=ttl,
    )
