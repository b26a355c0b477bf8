"""The triage filter: which invocations an operator means, as one validated SQL ``WHERE``.

Every field is optional and the fields combine with AND; a list (``status``) matches any of its
values. Each value goes through :func:`core.restate.sql.literal` (or ``int()``), never into the
SQL as typed. Text matching uses ``strpos`` rather than ``LIKE``, so ``%`` and ``_`` in an
operator's search text are plain characters.

Where the error lives (notes §5.2-5.4): ``last_failure`` for ``backing-off`` runs (with
``last_failure_error_code``), ``completion_failure`` for completed failures, and for ``paused``
runs only in ``sys_journal_events`` (the ``Paused`` event): the error filters look in all three.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field, field_validator

from core.models import ApiModel
from core.restate.sql import UnsafeLiteral, literal
from core.timestamps import iso_utc

#: Statuses of the ``sys_invocation`` view (``scheduled`` since 1.1, ``paused`` since 1.5).
InvocationStatus = Literal[
    "pending", "scheduled", "ready", "running", "backing-off", "suspended", "paused", "completed"
]
#: The default and the hard ceiling of how many invocations one selection holds.
DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ERROR_CODE = re.compile(r"^[A-Z]{2}\d{4}$")
_MAX_TEXT = 200


def parse_duration(field: str, text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``7d``; anything else names the field that broke the rule."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{field} must be a duration like 90s, 15m, 2h or 7d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0 or seconds > 366 * 86400:
        raise ValueError(f"{field} must be between 1s and 366d")
    return timedelta(seconds=seconds)


def _safe(field: str, value: str) -> str:
    if not value or len(value) > _MAX_TEXT:
        raise ValueError(f"{field} must be 1 to {_MAX_TEXT} characters")
    try:
        literal(value)
    except UnsafeLiteral as exc:
        raise ValueError(f"{field}: {exc}") from exc
    return value


class TriageFilter(ApiModel):
    """A selection of invocations, as the HTTP body, the Slack command and the CLI give it."""

    service: str | None = None
    handler: str | None = None
    key: str | None = None
    #: Keys that start with this text (tenants, batches: ``order-2026-``).
    key_prefix: str | None = None
    status: list[InvocationStatus] = Field(default_factory=list)
    #: The deployment the invocations are pinned to (``dp_…``).
    deployment: str | None = None
    #: Case-insensitive text in the last failure, the completion failure or the pause reason.
    error_contains: str | None = None
    #: A Restate error code such as ``RT0011`` (last failure or pause reason).
    error_code: str | None = None
    #: Created longer ago than this (``15m``, ``2h``, ``7d``).
    older_than: str | None = None
    #: Created more recently than this.
    newer_than: str | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @field_validator("service", "handler", "key", "key_prefix", "deployment", "error_contains")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _safe("value", value)

    @field_validator("error_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not _ERROR_CODE.fullmatch(value):
            raise ValueError("errorCode must look like RT0011")
        return value

    @field_validator("older_than", "newer_than")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration("the age", value)
        return value

    @field_validator("status")
    @classmethod
    def _unique(cls, value: list[InvocationStatus]) -> list[InvocationStatus]:
        return sorted(set(value))

    def describe(self) -> str:
        """The filter in the operator's words, e.g. ``service=Wf status=paused older-than=1h``."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("service", self.service),
                ("handler", self.handler),
                ("key", self.key),
                ("key-prefix", self.key_prefix),
                ("status", ",".join(self.status) or None),
                ("deployment", self.deployment),
                ("error", self.error_contains),
                ("error-code", self.error_code),
                ("older-than", self.older_than),
                ("newer-than", self.newer_than),
            )
            if value
        ]
        return " ".join(parts) or "all invocations"


def where_sql(flt: TriageFilter, now: datetime) -> str:
    """The filter as one SQL condition on ``sys_invocation``; ``TRUE`` when it is empty."""
    conditions: list[str] = []
    for column, value in (
        ("target_service_name", flt.service),
        ("target_handler_name", flt.handler),
        ("target_service_key", flt.key),
        ("pinned_deployment_id", flt.deployment),
    ):
        if value is not None:
            conditions.append(f"{column} = {literal(value)}")
    if flt.key_prefix is not None:
        conditions.append(f"starts_with(target_service_key, {literal(flt.key_prefix)})")
    if flt.status:
        conditions.append(f"status IN ({', '.join(literal(s) for s in flt.status)})")
    if flt.error_contains is not None:
        conditions.append(_error_contains(flt.error_contains))
    if flt.error_code is not None:
        conditions.append(_error_code(flt.error_code))
    if flt.older_than is not None:
        cutoff = now - parse_duration("olderThan", flt.older_than)
        conditions.append(f"created_at < TIMESTAMP {literal(iso_utc(cutoff))}")
    if flt.newer_than is not None:
        cutoff = now - parse_duration("newerThan", flt.newer_than)
        conditions.append(f"created_at > TIMESTAMP {literal(iso_utc(cutoff))}")
    return " AND ".join(conditions) or "TRUE"


def _contains(column: str, needle: str) -> str:
    return f"strpos(lower(coalesce({column}, '')), lower({literal(needle)})) > 0"


def _paused_with(condition: str) -> str:
    """Invocations whose ``Paused`` event matches: the only place a paused run's error is kept."""
    return (
        "id IN (SELECT id FROM sys_journal_events "  # noqa: S608 - condition is built from literal()
        f"WHERE event_type = 'Paused' AND {condition})"
    )


def _error_contains(text: str) -> str:
    return (
        f"({_contains('last_failure', text)} OR {_contains('completion_failure', text)} "
        f"OR {_paused_with(_contains('event_json', text))})"
    )


def _error_code(code: str) -> str:
    quoted_code = literal(f'"restate_doc_error_code":"{code}"')
    return (
        f"(last_failure_error_code = {literal(code)} "
        f"OR {_paused_with(f'strpos(event_json, {quoted_code}) > 0')})"
    )
