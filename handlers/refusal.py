"""Refusing a non-operator: the core decides, audits the denial and raises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from core.authz import can_operate
from core.errors import PermissionRequired
from core.operations import Attempt, Operations


async def refuse_write(
    operations: Operations, attempt: Attempt, route: str, args: Mapping[str, Any]
) -> NoReturn:
    """Let the core refuse ``attempt`` (its role is not operator): the denial is audited there.

    ``preview`` authorizes and audits like the write but never changes anything, and core raises
    ``PermissionRequired`` for every role but operator; the raise below only guards against that
    ever changing, so a non-operator can never get past this point.
    """
    if can_operate(attempt.actor.role):
        raise ValueError("refuse_write is only for actors without the operator role")
    await operations.preview(attempt, route, args)  # type: ignore[arg-type]  # core checks it
    raise PermissionRequired(f"{attempt.actor.id} does not have system operate permission.")
