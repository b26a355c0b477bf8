"""Write plans (``core.plans``: what a preview shows is what runs) and the advice offering them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from core.models.base import ApiModel, Route
from core.models.readout import DeploymentItem


class RedeployPlan(ApiModel):
    kind: Literal["force-redeploy"] = "force-redeploy"
    service_url: str
    force: bool = True


CleanupStepAction = Literal["keep", "delete", "skip"]


class CleanupStep(ApiModel):
    """What cleanup does with one deployment, and why (the report's reasons)."""

    deployment: DeploymentItem
    action: CleanupStepAction
    reason: str


class CleanupPlan(ApiModel):
    kind: Literal["cleanup-stale-deployments"] = "cleanup-stale-deployments"
    service_url: str
    force_drain: bool = False
    #: The kept deployment first, then every other one, newest first.
    steps: list[CleanupStep]
    #: Why drain states are unknown, when the usage could not be read.
    usage_error: str | None = None

    @property
    def keep(self) -> DeploymentItem:
        return self.steps[0].deployment

    def doing(self, action: CleanupStepAction) -> list[CleanupStep]:
        return [step for step in self.steps if step.action == action]


class RecoverPlan(ApiModel):
    kind: Literal["recover-stuck-workflow"] = "recover-stuck-workflow"
    service_name: str
    service_key: str
    #: The workflow's main handler (not always ``run``).
    handler: str
    #: Terminal-failed runs to kill (a no-op when completed) and purge, newest first.
    purge: list[str] = []


Plan = Annotated[RedeployPlan | CleanupPlan | RecoverPlan, Field(discriminator="kind")]


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
    #: A second operator must approve it (``core.two_person``): surfaces offer "Approve".
    needs_approval: bool = False
    #: The plan behind the preview, when it could be made: store it with the offer and pass it
    #: to ``Operations.execute`` so the write runs exactly this or says what changed.
    plan: Plan | None = Field(default=None, exclude=True)
