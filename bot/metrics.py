"""Prometheus metrics of one ``serve`` process, exposed at ``GET /metrics``.

Operations are measured where every surface's attempts already pass: the audit port. Each attempt
records a start and a finish; :class:`MeteredAuditLog` times the pair and counts append failures.
The watch readout gauges are set by the replica that leads the watch (the others leave them
unset, and ``restate_ops_watch_leader`` says which one it is).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

from core.audit import AttemptFinish, AttemptStart, AttemptView, AuditLog
from core.errors import AuditUnavailable
from core.models import DoctorReport
from core.watch.catalog import RULES
from core.watch.engine import CheckResult

COMPONENT_STATES = ("ok", "degraded", "unreachable")
#: Starts waiting for their finish; beyond this the oldest (a finish that never came) is dropped.
MAX_OPEN_ATTEMPTS = 10_000


class Metrics:
    """One registry per process (tests run several replicas in one interpreter)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.operations = Counter(
            "restate_ops_operations",
            "Attempts of operations by route and outcome.",
            ["route", "outcome"],
            registry=registry,
        )
        self.operation_seconds = Histogram(
            "restate_ops_operation_duration_seconds",
            "Time from an attempt's audited start to its audited finish.",
            ["route", "outcome"],
            registry=registry,
        )
        self.audit_failures = Counter(
            "restate_ops_audit_append_failures",
            "Audit entries that could not be appended (phase: start refused, finish lost).",
            ["phase"],
            registry=registry,
        )
        self.watch_checks = Counter(
            "restate_ops_watch_checks",
            "Watch checks by role (leader ran doctor, standby only tried the lease) and result.",
            ["role", "result"],
            registry=registry,
        )
        self.watch_seconds = Histogram(
            "restate_ops_watch_check_duration_seconds",
            "Duration of the leader's watch checks.",
            registry=registry,
        )
        self.watch_leader = Gauge(
            "restate_ops_watch_leader", "1 while this replica leads the watch.", registry=registry
        )
        self.alerts_open = Gauge(
            "restate_ops_alerts_open", "Open alerts by rule.", ["rule"], registry=registry
        )
        self.component_status = Gauge(
            "restate_ops_component_status",
            "1 for each component's status in the last readout, 0 for the other statuses.",
            ["component", "status"],
            registry=registry,
        )
        self.invocations = Gauge(
            "restate_ops_invocations",
            "Invocations by status in the last readout.",
            ["status"],
            registry=registry,
        )
        self.service_invocations = Gauge(
            "restate_ops_service_invocations",
            "Paused and backing-off invocations per service in the last readout.",
            ["service", "status"],
            registry=registry,
        )

    def record_check(self, result: CheckResult) -> None:
        role = "leader" if result.leader else "standby"
        self.watch_checks.labels(role=role, result="ok").inc()
        self.watch_leader.set(1 if result.leader else 0)
        if not result.leader or result.readout is None:
            return
        self.watch_seconds.observe(result.seconds)
        for rule in RULES:
            self.alerts_open.labels(rule=rule).set(result.open_by_rule.get(rule, 0))
        self._readout(result.readout.report)
        if result.readout.stuck is not None:
            self.service_invocations.clear()
            for service, stuck in result.readout.stuck.items():
                self.service_invocations.labels(service=service, status="paused").set(stuck.paused)
                self.service_invocations.labels(service=service, status="backing-off").set(
                    stuck.backing_off
                )

    def record_check_error(self) -> None:
        self.watch_checks.labels(role="leader", result="error").inc()

    def _readout(self, report: DoctorReport) -> None:
        for name, component in (
            ("ingress", report.ingress),
            ("admin", report.admin),
            ("deployments", report.deployments),
            ("services", report.services),
            ("invocations", report.invocations),
        ):
            for status in COMPONENT_STATES:
                value = 1 if component.status == status else 0
                self.component_status.labels(component=name, status=status).set(value)
        if report.invocations.status != "unreachable":
            self.invocations.clear()
            for status, count in report.invocations.by_status.items():
                self.invocations.labels(status=status).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


class MeteredAuditLog:
    """An ``AuditLog`` that times each attempt from its start to its finish, then delegates."""

    def __init__(self, inner: AuditLog, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        #: Attempts started here and not finished yet, oldest first.
        self._started: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def record_start(self, start: AttemptStart) -> None:
        try:
            await self._inner.record_start(start)
        except AuditUnavailable:
            self._metrics.audit_failures.labels(phase="start").inc()
            raise
        if len(self._started) >= MAX_OPEN_ATTEMPTS:
            self._started.popitem(last=False)  # a start whose finish never came
        self._started[start.attempt_id] = (start.route, time.monotonic())

    async def record_finish(self, finish: AttemptFinish) -> bool:
        stored = await self._inner.record_finish(finish)
        if not stored:
            self._metrics.audit_failures.labels(phase="finish").inc()
        started = self._started.pop(finish.attempt_id, None)
        if started is not None:
            route, at = started
            self._metrics.operations.labels(route=route, outcome=finish.outcome).inc()
            self._metrics.operation_seconds.labels(route=route, outcome=finish.outcome).observe(
                time.monotonic() - at
            )
        return stored

    async def latest(self, count: int) -> list[AttemptView]:
        return await self._inner.latest(count)
