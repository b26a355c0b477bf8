"""Doctor readouts for the Slack renderer and report-diff tests, from small to worst case."""

from __future__ import annotations

from collections.abc import Sequence

from core.models import (
    AdminReadout,
    Advice,
    DeploymentItem,
    DeploymentsReadout,
    DoctorReport,
    DrainState,
    FailureItem,
    IngressReadout,
    InvocationsReadout,
    ServiceItem,
    ServicesReadout,
    StuckItem,
)
from core.operations import DoctorResult

CHECKED_AT = "2026-05-09T10:10:00.000Z"
WF = "IdentityRecoveryWorkflow"


def deployment(n: int, drain: DrainState = "drained", url: str | None = None) -> DeploymentItem:
    return DeploymentItem(
        id=f"dp_{n:02d}",
        service_url=url or f"http://ddwf-{n}:9080/v1",
        created_at="2026-05-09T07:10:00.000Z",
        drain_state=drain,
        pinned_invocations=0,
    )


def failure(key: str, *, error: str = "TerminalError: upstream failed") -> FailureItem:
    return FailureItem(
        id=f"inv_{key}",
        service_name=WF,
        service_key=key,
        handler="run",
        failed_at="2026-05-09T10:07:00.000Z",
        error_message=error,
    )


def stuck_item(key: str, status: str = "backing-off") -> StuckItem:
    return StuckItem(
        id=f"inv_stuck_{key}",
        service_name=WF,
        service_key=key,
        handler="run",
        status=status,
        retry_count=7,
        error_message="upstream timed out",
        modified_at="2026-05-09T10:09:00.000Z",
    )


def report(
    *,
    deployments: list[DeploymentItem] | None = None,
    failures: list[FailureItem] | None = None,
    stuck: list[StuckItem] | None = None,
    services: list[ServiceItem] | None = None,
    admin: AdminReadout | None = None,
    by_status: dict[str, int] | None = None,
) -> DoctorReport:
    deployments = [deployment(1, "active")] if deployments is None else deployments
    return DoctorReport(
        ingress=IngressReadout(status="ok", latency_ms=12),
        admin=admin or AdminReadout(status="ok", latency_ms=9, version="1.7.12"),
        deployments=DeploymentsReadout(status="ok", items=deployments),
        services=ServicesReadout(
            status="ok",
            items=services
            if services is not None
            else [ServiceItem(name=WF, revision=3, type="workflow")],
        ),
        invocations=InvocationsReadout(
            status="ok",
            by_status=by_status or {"completed": len(failures or [])},
            recent_failures=failures or [],
            stuck=stuck or [],
        ),
        checked_at=CHECKED_AT,
    )


def unreachable() -> DoctorReport:
    """Restate down: every admin-backed component unreachable."""
    error = "ConnectError: connection refused"
    return DoctorReport(
        ingress=IngressReadout(status="unreachable", error=error),
        admin=AdminReadout(status="unreachable", error=error),
        deployments=DeploymentsReadout(status="unreachable", error=error),
        services=ServicesReadout(status="unreachable", error=error),
        invocations=InvocationsReadout(status="unreachable", error=error),
        checked_at=CHECKED_AT,
    )


def worst_case() -> DoctorReport:
    """20 failures with long errors, 50 deployments, 20 services and 10 stuck invocations."""
    long_error = "TerminalError: " + "upstream provider said no; " * 80
    return report(
        deployments=[
            deployment(n, "drained", f"http://ddwf-{n}.svc:9080/v1/{'p' * 90}") for n in range(50)
        ],
        failures=[failure(f"invitation_{n:02d}_{'x' * 60}", error=long_error) for n in range(20)],
        stuck=[stuck_item(f"key{n}") for n in range(10)],
        services=[ServiceItem(name=f"Workflow{n}", revision=n, type="Workflow") for n in range(20)],
        by_status={"completed": 20, "backing-off": 10, "running": 3, "suspended": 4},
    )


def result(doctor: DoctorReport, advice: Sequence[Advice] = ()) -> DoctorResult:
    return DoctorResult(doctor, list(advice), "req_test0001")
