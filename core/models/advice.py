"""Advice: one recommended next step, with its preview and, for a write, its plan."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.models.base import ApiModel, Route
from core.models.plans import Plan

AdviceKind = Literal[
    "force-redeploy",
    "cleanup-stale-deployments",
    "recover-stuck-workflow",
    "fix-connectivity",
    "inspect",
]


class Advice(ApiModel):
    """One recommended next step, derived from a doctor readout by ``core.advice``.

    Write advice carries the exact request body (``args``) the operation will receive and a
    ``preview`` that states what will change, for confirm dialogs and CLI prompts.
    """

    kind: AdviceKind
    #: The write route to run, or None for advice that is read-only (fix connectivity, inspect).
    route: Route | None = None
    title: str
    preview: str
    args: dict[str, Any] = {}
    destructive: bool = False
    #: The plan behind the preview, when it could be made: store it with the offer and pass it
    #: to ``Operations.execute`` so the write runs exactly this or says what changed.
    plan: Plan | None = Field(default=None, exclude=True)
