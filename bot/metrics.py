"""Prometheus metrics of one ``serve`` process, exposed at ``GET /metrics``.

Operations are measured where every surface's attempts already pass: the audit port. Each attempt
records a start and a finish; :class:`MeteredAuditLog` times the pair and counts append failures.
The watch readout gauges are set by the replica that leads the watch (the others leave them
unset, and ``restate_ops_watch_leader`` says which one it is). Every series is labelled with its
Restate ``environment`` (each environment has its own watch and its own leader).
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
from core.environments import DEFAULT_ENVIRONMENT
from core.errors import AuditUnavailable
from core.models import DoctorReport
from core.watch.catalog import RULES
from core.watch.engine import CheckResult

#: The ``environment`` label of an attempt that acted on none: an HTTP request naming an
#: environment that is not configured (never counted as the default one's).
NO_ENVIRONMENT = "none"
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
            ["environment", "route", "outcome"],
            registry=registry,
        )
        self.operation_seconds = Histogram(
            "restate_ops_operation_duration_seconds",
            "Time from an attempt's audited start to its audited finish.",
            ["environment", "route", "outcome"],
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
            ["environment", "role", "result"],
            registry=registry,
        )
        self.watch_seconds = Histogram(
            "restate_ops_watch_check_duration_seconds",
            "Duration of the leader's watch checks.",
            ["environment"],
            registry=registry,
        )
        self.watch_leader = Gauge(
            "restate_ops_watch_leader",
            "1 while this replica leads the environment's watch.",
            ["environment"],
            registry=registry,
        )
        self.alerts_open = Gauge(
            "restate_ops_alerts_open",
            "Open alerts by rule.",
            ["environment", "rule"],
            registry=registry,
        )
        self.component_status = Gauge(
            "restate_ops_component_status",
            "1 for each component's status in the last readout, 0 for the other statuses.",
            ["environment", "component", "status"],
            registry=registry,
        )
        self.invocations = Gauge(
            "restate_ops_invocations",
            "Invocations by status in the last readout.",
            ["environment", "status"],
            registry=registry,
        )
        self.service_invocations = Gauge(
            "restate_ops_service_invocations",
            "Paused and backing-off invocations per service in the last readout.",
            ["environment", "service", "status"],
            registry=registry,
        )

    def record_check(self, result: CheckResult, environment: str = DEFAULT_ENVIRONMENT) -> None:
        env = environment
        role = "leader" if result.leader else "standby"
        self.watch_checks.labels(environment=env, role=role, result="ok").inc()
        self.watch_leader.labels(environment=env).set(1 if result.leader else 0)
        if not result.leader or result.readout is None:
            return
        self.watch_seconds.labels(environment=env).observe(result.seconds)
        for rule in RULES:
            self.alerts_open.labels(environment=env, rule=rule).set(
                result.open_by_rule.get(rule, 0)
            )
        self._readout(env, result.readout.report)
        if result.readout.stuck is not None:
            rows: dict[tuple[str, ...], float] = {}
            for service, stuck in result.readout.stuck.items():
                rows[(env, service, "paused")] = stuck.paused
                rows[(env, service, "backing-off")] = stuck.backing_off
            _replace(self.service_invocations, env, rows)

    def record_check_error(self, environment: str = DEFAULT_ENVIRONMENT) -> None:
        self.watch_checks.labels(environment=environment, role="leader", result="error").inc()

    def _readout(self, env: str, report: DoctorReport) -> None:
        for name, component in (
            ("ingress", report.ingress),
            ("admin", report.admin),
            ("deployments", report.deployments),
            ("services", report.services),
            ("invocations", report.invocations),
        ):
            for status in COMPONENT_STATES:
                value = 1 if component.status == status else 0
                self.component_status.labels(environment=env, component=name, status=status).set(
                    value
                )
        if report.invocations.status != "unreachable":
            by_status = report.invocations.by_status.items()
            rows: dict[tuple[str, ...], float] = {(env, status): n for status, n in by_status}
            _replace(self.invocations, env, rows)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _replace(gauge: Gauge, env: str, rows: dict[tuple[str, ...], float]) -> None:
    """Set ``env``'s series of ``gauge`` to ``rows`` (label values → value), dropping the ones
    that are gone (a service with nothing paused any more), and leaving other environments'."""
    for labels in list(gauge._metrics):
        if labels[0] == env and labels not in rows:
            gauge.remove(*labels)
    for labels, value in rows.items():
        gauge.labels(*labels).set(value)


class MeteredAuditLog:
    """An ``AuditLog`` that times each attempt from its start to its finish, then delegates."""

    def __init__(self, inner: AuditLog, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        #: Attempts started here and not finished yet (environment, route, when), oldest first.
        self._started: OrderedDict[str, tuple[str, str, float]] = OrderedDict()

    async def record_start(self, start: AttemptStart) -> None:
        try:
            await self._inner.record_start(start)
        except AuditUnavailable:
            self._metrics.audit_failures.labels(phase="start").inc()
            raise
        if len(self._started) >= MAX_OPEN_ATTEMPTS:
            self._started.popitem(last=False)  # a start whose finish never came
        self._started[start.attempt_id] = (
            start.environment or NO_ENVIRONMENT,
            start.route,
            time.monotonic(),
        )

    async def record_finish(self, finish: AttemptFinish) -> bool:
        stored = await self._inner.record_finish(finish)
        if not stored:
            self._metrics.audit_failures.labels(phase="finish").inc()
        started = self._started.pop(finish.attempt_id, None)
        if started is not None:
            env, route, at = started
            labels = {"environment": env, "route": route, "outcome": finish.outcome}
            self._metrics.operations.labels(**labels).inc()
            self._metrics.operation_seconds.labels(**labels).observe(time.monotonic() - at)
        return stored

    async def latest(self, count: int) -> list[AttemptView]:
        return await self._inner.latest(count)
