"""The audit trail's vocabulary: what one attempt records, and the port that stores it.

Each attempt writes a ``start`` entry before it acts and a ``finish`` entry after (the start of a
write must be stored or the write is refused: fail closed). An attempt whose finish never arrived
(the process died) is shown as ``interrupted`` by the views.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.timestamps import UtcTime

Surface = Literal["slack", "http", "cli"]
#: ``preview``: what a write would change, shown before anyone confirms (it changes nothing).
Phase = Literal["execute", "preview"]
Outcome = Literal["succeeded", "failed", "denied", "blocked", "interrupted"]


class Actor(BaseModel):
    """Who attempts an operation. ``id`` is immutable; ``display_name`` is for information only."""

    model_config = ConfigDict(frozen=True)

    id: str
    surface: Surface
    display_name: str | None = None
    #: Role at the time of the attempt, e.g. "operator" or "none".
    role: str = "none"


class AttemptStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt_id: str
    request_id: str
    actor: Actor
    route: str
    phase: Phase = "execute"
    #: Sanitized arguments (URL user info replaced by REDACTED, secrets removed).
    args: dict[str, Any]
    reason: str | None = None
    started_at: UtcTime
    #: Where it happened, e.g. {"channel": "C123", "message_ts": "1700000000.000100"} for Slack.
    context: dict[str, str] = {}
    #: The Restate environment it acted on (``core.environments``). Left out when None, so
    #: entries written before environments existed keep their content and still verify.
    environment: str | None = Field(default=None, exclude_if=lambda value: value is None)


class AttemptFinish(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt_id: str
    request_id: str
    outcome: Outcome
    finished_at: UtcTime
    error_code: str | None = None
    error_message: str | None = None
    #: Per-item outcomes of a bulk triage action (``{"id", "outcome", "detail"}``). Left out of
    #: the entry when None, so every other finish is stored exactly as before.
    items: list[dict[str, str | None]] | None = Field(
        default=None, exclude_if=lambda value: value is None
    )


class AttemptView(BaseModel):
    """One attempt as the audit views show it: its start joined with its finish, if any."""

    model_config = ConfigDict(frozen=True)

    start: AttemptStart
    finish: AttemptFinish | None = None

    @property
    def outcome(self) -> Outcome:
        return self.finish.outcome if self.finish else "interrupted"


class AuditLog(Protocol):
    """Port for the audit store. Implemented over a Redis Stream in ``core.audit.store``."""

    async def record_start(self, start: AttemptStart) -> None:
        """Store the start of an attempt; raise ``AuditUnavailable`` when it cannot be stored."""

    async def record_finish(self, finish: AttemptFinish) -> bool:
        """Store the finish, retrying with backoff; False (and a loud log) when it never got in."""

    async def latest(self, count: int) -> list[AttemptView]:
        """The newest ``count`` attempts, newest first."""
