"""The facade every surface calls: authorization, validation and fail-closed audit."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
import pytest

from core.audit import Actor
from core.authz import NO_ROLE, OPERATOR
from core.errors import AuditUnavailable, InvalidInput, PermissionRequired
from core.models import to_json_dict
from core.operations import Attempt, Operations
from core.restate.client import RestateAdminClient, RestateIngressClient
from tests.fakes import FakeAuditLog
from tests.unit.write_fakes import FakeAdmin

NOW = datetime(2026, 5, 9, 10, 0, tzinfo=UTC)


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Answers every request with a transport error and remembers that it was asked."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        raise httpx2.ConnectError("refused", request=request)


def make_ops(audit: FakeAuditLog, transport: RecordingTransport) -> Operations:
    return Operations(
        admin=RestateAdminClient("http://admin.test:9070", transport=transport),
        ingress=RestateIngressClient("http://ingress.test:8080", transport=transport),
        audit=audit,
        live_service_url="http://ddwf:9080/v1",
        now=lambda: NOW,
    )


def ops_on(audit: FakeAuditLog, admin: RestateAdminClient) -> Operations:
    return Operations(admin=admin, ingress=None, audit=audit, now=lambda: NOW)


def attempt(role: str = OPERATOR) -> Attempt:
    return Attempt(actor=Actor(id="U0OPERATOR", surface="slack", role=role), request_id="req_1")


async def test_a_denied_write_is_audited_and_reaches_no_endpoint() -> None:
    """A non-operator is refused, audited as denied, and Restate is untouched."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    with pytest.raises(PermissionRequired) as caught:
        await make_ops(audit, transport).execute(
            attempt(NO_ROLE), "recover-stuck-workflow", {"serviceName": "Wf", "serviceKey": "k"}
        )
    assert caught.value.code == "OFFCHAIN_USER_PERMISSION_REQUIRED"
    assert caught.value.request_id == "req_1"
    assert audit.outcomes() == [("recover-stuck-workflow", "denied")]
    assert transport.requests == []


@pytest.mark.parametrize(
    ("route", "args", "field", "rule"),
    [
        (
            "recover-stuck-workflow",
            {"serviceName": "Wf", "serviceKey": "o'brien"},
            "serviceKey",
            "must match ^[a-zA-Z0-9_-]+$",
        ),
        ("force-redeploy", {"serviceUrl": ""}, "serviceUrl", "must be a non-empty URL"),
        (
            "cleanup-stale-deployments",
            {"serviceUrl": "ddwf:9080/v1"},
            "serviceUrl",
            "must be an absolute http:// or https:// URL",
        ),
        ("force-redeploy", {}, "serviceUrl", "is required"),
        (
            "force-redeploy",
            {"serviceUrl": "http://a/", "force": "yes"},
            "force",
            "must be a boolean",
        ),
        (
            "force-redeploy",
            {"serviceUrl": "http://a/", "forse": True},
            "forse",
            "is not a field of this request",
        ),
    ],
)
async def test_bad_input_names_field_and_rule_and_reaches_no_endpoint(
    route: str, args: dict[str, object], field: str, rule: str
) -> None:
    """Invalid arguments raise InvalidInput naming the field and rule before any Restate call."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    with pytest.raises(InvalidInput) as caught:
        await make_ops(audit, transport).execute(attempt(), route, args)  # type: ignore[arg-type]
    assert (field, rule) == (caught.value.field, caught.value.rule)
    assert transport.requests == []
    assert audit.outcomes() == [(route, "failed")]


async def test_a_write_is_refused_when_its_audit_start_cannot_be_stored() -> None:
    """With the audit store down, a valid write is refused and Restate is never called."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    audit.available = False
    with pytest.raises(AuditUnavailable) as caught:
        await make_ops(audit, transport).execute(
            attempt(), "force-redeploy", {"serviceUrl": "http://ddwf:9080/v1"}
        )
    assert caught.value.request_id == "req_1"
    assert transport.requests == []


async def test_transport_failure_of_a_write_is_admin_unreachable_and_audited() -> None:
    """A write whose admin API is unreachable fails with the seed's code and a failed audit row."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the code is asserted below
        await make_ops(audit, transport).execute(
            attempt(), "force-redeploy", {"serviceUrl": "http://user:pw@ddwf:9080/v1"}
        )
    assert getattr(caught.value, "code", None) == "RESTATE_ADMIN_UNREACHABLE"
    assert audit.outcomes() == [("force-redeploy", "failed")]
    assert audit.starts[0].args == {"serviceUrl": "http://REDACTED@ddwf:9080/v1"}
    assert audit.starts[0].model_dump(mode="json")["started_at"] == "2026-05-09T10:00:00.000Z"
    assert audit.finishes[0].error_code == "RESTATE_ADMIN_UNREACHABLE"


async def test_doctor_still_answers_when_the_audit_store_is_down() -> None:
    """doctor is read-only: with the audit down it still answers and says it was not audited."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    audit.available = False
    result = await make_ops(audit, transport).doctor(attempt())
    assert result.audit_error is not None
    assert result.report.admin.status == "unreachable"
    assert to_json_dict(result.report)["checkedAt"] == "2026-05-09T10:00:00.000Z"


async def test_doctor_requires_operate_permission() -> None:
    """doctor is one of the four operator routes: a non-operator is denied and audited."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    with pytest.raises(PermissionRequired):
        await make_ops(audit, transport).doctor(attempt(NO_ROLE))
    assert audit.outcomes() == [("doctor", "denied")]
    assert transport.requests == []


async def test_preview_of_a_text_command_is_validated_and_names_the_change() -> None:
    """A recover preview names the key and what will change, and sends Restate no write."""
    audit, fake = FakeAuditLog(), FakeAdmin()
    fake.add_workflow(name="Wf")
    fake.add_run("completed", "failure", key="k1", service="Wf")
    async with fake.client() as admin:
        advice = await ops_on(audit, admin).preview(
            attempt(), "recover-stuck-workflow", {"serviceName": "Wf", "serviceKey": "k1"}
        )
    assert advice.args == {"serviceName": "Wf", "serviceKey": "k1"}
    assert "Wf/k1" in advice.preview
    assert advice.destructive
    assert fake.writes == []


async def test_preview_refuses_non_operators_and_audits_the_refusal() -> None:
    """A text command from a non-operator is denied at preview time and audited as denied."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    with pytest.raises(PermissionRequired):
        await make_ops(audit, transport).preview(
            attempt(NO_ROLE), "force-redeploy", {"serviceUrl": "http://ddwf:9080/v1"}
        )
    assert audit.outcomes() == [("force-redeploy", "denied")]


async def test_authorize_audits_a_denial_and_lets_operators_through() -> None:
    """authorize refuses and audits a non-operator, and is silent for an operator."""
    audit, transport = FakeAuditLog(), RecordingTransport()
    ops = make_ops(audit, transport)
    await ops.authorize(attempt(), "recover-stuck-workflow")
    with pytest.raises(PermissionRequired) as caught:
        await ops.authorize(attempt(NO_ROLE), "recover-stuck-workflow")
    assert caught.value.request_id == "req_1"
    assert audit.outcomes() == [("recover-stuck-workflow", "denied")]
    assert transport.requests == []
