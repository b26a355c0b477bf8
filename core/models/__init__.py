"""Operator-facing models: the doctor readout, the route bodies, the write plans and advice.

Field names are the operator guide's. Python attributes are snake_case; JSON uses the guide's
camelCase (``latencyMs``, ``serviceUrl``, ``recentFailures`` ...) through an alias generator.
Always dump with :func:`to_json_dict`. Import from here; the submodules group them:

* ``base``: ``ApiModel`` and the shared vocabularies (statuses, routes);
* ``readout``: the doctor readout and its verdict;
* ``routes``: request and response bodies, and ``parse_request``;
* ``plans``: what each write will do (``core.plans``), and ``Advice``: a recommended next
  step with its preview and plan.
"""

from core.models.base import (
    IDENTIFIER,
    MAX_RECENT_FAILURES,
    WRITE_ROUTES,
    ApiModel,
    ComponentStatus,
    DrainState,
    Route,
    to_json_dict,
)
from core.models.plans import (
    Advice,
    AdviceKind,
    CleanupPlan,
    CleanupStep,
    CleanupStepAction,
    Plan,
    RecoverPlan,
    RedeployPlan,
)
from core.models.readout import (
    AdminReadout,
    DeploymentItem,
    DeploymentsReadout,
    DoctorReport,
    FailureItem,
    IngressReadout,
    InvocationPart,
    InvocationsReadout,
    ServiceItem,
    ServicesReadout,
    StuckItem,
    Verdict,
    VerdictStatus,
)
from core.models.routes import (
    CleanupAction,
    CleanupItem,
    CleanupRequest,
    CleanupResponse,
    DoctorRequest,
    ForceRedeployRequest,
    ForceRedeployResponse,
    RecoverRequest,
    RecoverResponse,
    parse_request,
    require_http_url,
)

__all__ = [
    "IDENTIFIER",
    "MAX_RECENT_FAILURES",
    "WRITE_ROUTES",
    "AdminReadout",
    "Advice",
    "AdviceKind",
    "ApiModel",
    "CleanupAction",
    "CleanupItem",
    "CleanupPlan",
    "CleanupRequest",
    "CleanupResponse",
    "CleanupStep",
    "CleanupStepAction",
    "ComponentStatus",
    "DeploymentItem",
    "DeploymentsReadout",
    "DoctorReport",
    "DoctorRequest",
    "DrainState",
    "FailureItem",
    "ForceRedeployRequest",
    "ForceRedeployResponse",
    "IngressReadout",
    "InvocationPart",
    "InvocationsReadout",
    "Plan",
    "RecoverPlan",
    "RecoverRequest",
    "RecoverResponse",
    "RedeployPlan",
    "Route",
    "ServiceItem",
    "ServicesReadout",
    "StuckItem",
    "Verdict",
    "VerdictStatus",
    "parse_request",
    "require_http_url",
    "to_json_dict",
]
