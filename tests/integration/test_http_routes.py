"""The HTTP operator routes against a live server: the seeds' curl examples run verbatim.

The stack is the demo's (`bot.demo.demo_stack`): a real Restate in which the seeds' service URL
``http://ddwf:9080`` is the live workflow service, with failed and retrying keys planted. The bot
is the real app under uvicorn (`bot.serve.serve`) on a free port; curl runs as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.demo import DEMO_API_KEYS, FAILED_KEYS, LIVE_SERVICE_URL, RETRYING_KEY, DemoStack
from bot.demo import demo_stack as start_demo_stack
from bot.devstack import free_port
from bot.services import build_services
from bot.settings import Settings
from core.audit import AttemptView
from core.restate.client import RestateAdminClient
from tests.integration.seed_pages import (
    PAGES,
    curl_examples,
    export_block,
    json_example_with,
    shape_problems,
)
from tests.stopping import serving

pytestmark = pytest.mark.integration

PREFIX = "/api/v2/admin/operator/restate"
OPERATOR_KEY = DEMO_API_KEYS["demo-operator"]
READONLY_KEY = "sm_dalp_readonly_1234567890"


@dataclass(frozen=True)
class Server:
    url: str
    settings: Settings


@asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[Server]:
    """`serve` in this event loop until the block ends; the URL once the port is bound."""
    async with serving(settings) as served:
        yield Server(served.url, settings)


def server_settings(stack: DemoStack, **extra: object) -> Settings:
    return stack.settings(
        port=free_port(),
        readonly_api_keys=f"auditor={READONLY_KEY}",
        slack_bot_token=None,
        **extra,
    )


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[DemoStack]:
    """The demo's stack, trouble planted, for this module only (it registers and deletes)."""
    async with start_demo_stack() as demo:
        yield demo


@pytest.fixture(scope="module")
async def server(stack: DemoStack) -> AsyncIterator[Server]:
    async with running_server(server_settings(stack)) as running:
        yield running


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as client:
        yield client


async def run_curl(script: str) -> Any:
    """Run a shell script (exports + one seed curl) and parse what curl printed."""
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ["PATH"]},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def audit_rows(settings: Settings, count: int = 50) -> list[AttemptView]:
    async with build_services(settings) as services:
        return await services.audit.latest(count)


async def audit_row(settings: Settings, request_id: str) -> AttemptView:
    matches = [v for v in await audit_rows(settings) if v.start.request_id == request_id]
    assert len(matches) == 1, f"{len(matches)} audit rows for {request_id}"
    return matches[0]


async def deployment_urls(stack: DemoStack) -> list[str]:
    async with RestateAdminClient(stack.restate.admin_url) as admin:
        return sorted(d.endpoint for d in await admin.list_deployments())


# --- the seeds, verbatim -------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
async def test_every_seed_curl_example_works_verbatim(server: Server, page: str) -> None:
    """Each curl of the page, run as written after its exports, answers in the seed's shape."""
    examples = curl_examples(page)
    assert len(examples) >= 3
    for example in examples:
        body = await run_curl(export_block(page, server.url) + "\n" + example.curl)
        assert shape_problems(example.response, body) == [], example.curl
        if "acknowledged" in example.response:
            assert body["acknowledged"] is True


async def test_seed_sequence_leaves_only_the_kept_deployment(
    server: Server, stack: DemoStack
) -> None:
    """After the seed's cleanup curl, only the deployment of http://ddwf:9080 is registered."""
    page = PAGES[1]
    cleanup = next(e for e in curl_examples(page) if e.route == "cleanup-stale-deployments")
    body = await run_curl(export_block(page, server.url) + "\n" + cleanup.curl)
    kept = [row for row in body["report"] if row["action"] == "kept"]
    assert [row["serviceUrl"] for row in kept] == [LIVE_SERVICE_URL + "/"]
    assert await deployment_urls(stack) == [LIVE_SERVICE_URL + "/"]


async def test_doctor_reports_the_planted_trouble(http: httpx.AsyncClient) -> None:
    """Doctor lists the retrying key as stuck and offers advice with the route bodies to send."""
    response = await http.post(f"{PREFIX}/doctor", headers={"X-Api-Key": OPERATOR_KEY}, json={})
    body = response.json()
    assert response.status_code == 200
    stuck = [(item["serviceName"], item["serviceKey"]) for item in body["invocations"]["stuck"]]
    assert RETRYING_KEY in stuck
    assert body["auditError"] is None
    assert all({"kind", "title", "preview", "args"} <= set(a) for a in body["advice"])


# --- authentication and permission ---------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "sm_dalp_not_a_configured_key"}])
async def test_missing_or_unknown_key_is_401_and_audited(
    http: httpx.AsyncClient, server: Server, headers: dict[str, str]
) -> None:
    """Without a configured key the route answers 401 and the attempt is audited as denied."""
    response = await http.post(f"{PREFIX}/force-redeploy", headers=headers, json={})
    body = response.json()
    assert (response.status_code, body["code"]) == (401, "UNAUTHENTICATED")
    row = await audit_row(server.settings, response.headers["X-Request-Id"])
    assert (row.start.actor.id, row.start.route, row.outcome) == (
        "anonymous",
        "force-redeploy",
        "denied",
    )
    assert row.start.args == {}
    assert row.finish is not None
    assert row.finish.error_code == "UNAUTHENTICATED"


async def test_read_only_key_is_403_with_the_seed_code(
    http: httpx.AsyncClient, server: Server
) -> None:
    """A known key without operate permission gets the seed's 403 and its name is audited."""
    response = await http.post(
        f"{PREFIX}/doctor", headers={"X-Api-Key": READONLY_KEY}, content=b"{}"
    )
    body = response.json()
    assert (response.status_code, body["code"]) == (403, "OFFCHAIN_USER_PERMISSION_REQUIRED")
    row = await audit_row(server.settings, body["requestId"])
    assert (row.start.actor.id, row.start.actor.role, row.outcome) == (
        "auditor",
        "read-only",
        "denied",
    )


async def test_api_key_never_reaches_the_audit_or_the_body(
    http: httpx.AsyncClient, server: Server
) -> None:
    """The audited actor is the key's name; the secret appears in no audit row."""
    response = await http.post(
        f"{PREFIX}/doctor", headers={"X-Api-Key": OPERATOR_KEY, "X-Reason": "incident 42"}
    )
    row = await audit_row(server.settings, response.headers["X-Request-Id"])
    assert (row.start.actor.id, row.start.reason) == ("demo-operator", "incident 42")
    assert OPERATOR_KEY not in json.dumps(
        [v.model_dump(mode="json") for v in await audit_rows(server.settings)]
    )
    assert OPERATOR_KEY not in response.text


# --- bad bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "content", "status", "field", "rule"),
    [
        ("force-redeploy", b'{"serviceUrl": ', 400, "body", "must be valid JSON"),
        ("cleanup-stale-deployments", b"[]", 400, "body", "must be a JSON object, not an array"),
        ("force-redeploy", b'{"serviceUrl": "http://x/", "force": "yes"}', 422, "force",
         "must be a boolean"),
        ("force-redeploy", b'{"serviceUrl": "http://x/", "extra": 1}', 422, "extra",
         "is not a field of this request"),
        ("cleanup-stale-deployments", b'{"forceDrain": true}', 422, "serviceUrl", "is required"),
        ("recover-stuck-workflow", b'{"serviceName": "InvitationWorkflow", "serviceKey": "a/b"}',
         422, "serviceKey", "must match ^[a-zA-Z0-9_-]+$"),
        ("doctor", b'{"verbose": true}', 422, "verbose", "is not a field of this request"),
        # Beyond the fields' rules: what the parser, the audit or the answer could not carry.
        ("force-redeploy", b'{"a": ' + b"[" * 1500 + b"]" * 1500 + b"}", 400, "body",
         "must nest at most 32 levels"),
        ("doctor", b"[" * 40_000 + b"]" * 20_000, 400, "body", "must nest at most 32 levels"),
        ("force-redeploy", b'{"serviceUrl": "http://x/\\ud800"}', 422, "serviceUrl",
         "must be valid Unicode text"),
        ("recover-stuck-workflow", b'{"serviceName": "W", "serviceKey": "k", "\\udc80": 1}',
         422, "\\udc80", "must be valid Unicode text"),
        ("cleanup-stale-deployments", b'{"serviceUrl": "http://a/", "serviceUrl": "http://b/"}',
         422, "serviceUrl", "must appear only once"),
        ("force-redeploy", b'{"serviceUrl": "http://x/", "force": NaN}', 400, "body",
         "must be valid JSON (NaN is not a JSON number)"),
        ("force-redeploy", b'{"serviceUrl": "http://x/", "force": 1e999}', 400, "body",
         "must be valid JSON (the number 1e999 is out of range)"),
        ("force-redeploy", b'{"serviceUrl": "http://x/", "force": ' + b"9" * 5000 + b"}", 400,
         "body", "must be valid JSON (a number is longer than 100 characters)"),
        ("cleanup-stale-deployments", b'{"serviceUrl": "\xff\xfe\xfd"}', 400, "body",
         "must be valid JSON (not UTF-8)"),
        ("recover-stuck-workflow", b'{"serviceName": {"x": [1, null]}, "serviceKey": 7}', 422,
         "serviceName", "must be a string"),
        ("cleanup-stale-deployments", b'{"serviceUrl": "http://a/", "forceDrain": null}', 422,
         "forceDrain", "must be a boolean"),
        ("force-redeploy", b'{"serviceUrl": "http://x/\\n"}', 422, "serviceUrl",
         "must be printable text"),
    ],
)  # fmt: skip
async def test_bad_body_names_field_and_rule_and_changes_nothing(
    http: httpx.AsyncClient,
    server: Server,
    stack: DemoStack,
    route: str,
    content: bytes,
    status: int,
    field: str,
    rule: str,
) -> None:
    """A malformed or invalid body is refused naming field and rule, audited, Restate untouched."""
    before = await deployment_urls(stack)
    response = await http.post(
        f"{PREFIX}/{route}", headers={"X-Api-Key": OPERATOR_KEY}, content=content
    )
    body = response.json()
    assert response.status_code == status
    assert (body["code"], body["data"]["field"]) == ("INVALID_INPUT", field)
    assert body["data"]["rule"].startswith(rule)
    assert body["requestId"] == response.headers["X-Request-Id"]
    assert await deployment_urls(stack) == before
    row = await audit_row(server.settings, body["requestId"])
    assert (row.start.route, row.outcome) == (route, "failed")
    assert row.finish is not None
    assert row.finish.error_code == "INVALID_INPUT"


async def test_oversized_body_is_413(http: httpx.AsyncClient) -> None:
    """A body far larger than any request is refused before it is parsed."""
    response = await http.post(
        f"{PREFIX}/doctor", headers={"X-Api-Key": OPERATOR_KEY}, content=b" " * 70_000
    )
    assert (response.status_code, response.json()["data"]["field"]) == (413, "body")


async def test_unencodable_text_is_refused_and_audited_as_sent(
    http: httpx.AsyncClient, server: Server
) -> None:
    """A lone surrogate in an unknown field is refused and still gets its audit row, as sent."""
    response = await http.post(
        f"{PREFIX}/force-redeploy",
        headers={"X-Api-Key": OPERATOR_KEY},
        content=b'{"serviceUrl": "http://x/", "note": "a\\ud800b"}',
    )
    assert (response.status_code, response.json()["data"]["field"]) == (422, "note")
    row = await audit_row(server.settings, response.headers["X-Request-Id"])
    assert row.start.args == {"serviceUrl": "http://x/", "note": "a\ud800b"}
    assert (row.outcome, row.finish and row.finish.error_code) == ("failed", "INVALID_INPUT")


@pytest.mark.parametrize(
    "content",
    [b'{"serviceUrl": "\\ud800"}', b"[" * 2000, b'{"force": NaN}', b'{"a": 1, "a": 2}'],
)
async def test_denial_is_audited_whatever_the_body(
    http: httpx.AsyncClient, server: Server, content: bytes
) -> None:
    """A key without permission is denied (403) and audited even when its body is unreadable."""
    response = await http.post(
        f"{PREFIX}/force-redeploy", headers={"X-Api-Key": READONLY_KEY}, content=content
    )
    assert (response.status_code, response.json()["code"]) == (
        403,
        "OFFCHAIN_USER_PERMISSION_REQUIRED",
    )
    row = await audit_row(server.settings, response.headers["X-Request-Id"])
    assert (row.start.actor.id, row.outcome, row.start.args) == ("auditor", "denied", {})


# --- the seed's error classes --------------------------------------------------------------------


async def test_retry_blocked_is_409_with_reason_ids_and_one_request_id(
    http: httpx.AsyncClient, server: Server
) -> None:
    """Recovering a retrying key is refused with the seed's body; header, body and audit agree."""
    service, key = RETRYING_KEY
    response = await http.post(
        f"{PREFIX}/recover-stuck-workflow",
        headers={"X-Api-Key": OPERATOR_KEY},
        json={"serviceName": service, "serviceKey": key},
    )
    body = response.json()
    seed = json_example_with(PAGES[0], "RESTATE_WORKFLOW_RETRY_BLOCKED")
    assert response.status_code == 409
    assert shape_problems(seed, body) == []
    assert body["data"]["reason"] == "active-invocation"
    assert len(body["data"]["invocationIds"]) == 1
    row = await audit_row(server.settings, response.headers["X-Request-Id"])
    assert body["requestId"] == response.headers["X-Request-Id"] == row.start.request_id
    assert (row.outcome, row.finish and row.finish.error_code) == (
        "blocked",
        "RESTATE_WORKFLOW_RETRY_BLOCKED",
    )


async def test_recover_of_a_failed_key_is_acknowledged(http: httpx.AsyncClient) -> None:
    """The seeds' second failed key is purged and its state cleared."""
    service, key = FAILED_KEYS[1]
    response = await http.post(
        f"{PREFIX}/recover-stuck-workflow",
        headers={"X-Api-Key": OPERATOR_KEY},
        json={"serviceName": service, "serviceKey": key},
    )
    body = response.json()
    assert (response.status_code, body["acknowledged"], body["stateCleared"]) == (200, True, True)
    assert len(body["purged"]) == 1


async def test_unknown_service_url_is_404_and_nothing_is_deleted(
    http: httpx.AsyncClient, stack: DemoStack
) -> None:
    """Cleanup with a URL no deployment has answers the seed's 404 and deletes nothing."""
    before = await deployment_urls(stack)
    response = await http.post(
        f"{PREFIX}/cleanup-stale-deployments",
        headers={"X-Api-Key": OPERATOR_KEY},
        json={"serviceUrl": "http://127.0.0.1:9/not-registered"},
    )
    body = response.json()
    assert (response.status_code, body["code"]) == (404, "RESTATE_DEPLOYMENT_NOT_FOUND")
    assert body["requestId"] == response.headers["X-Request-Id"]
    assert await deployment_urls(stack) == before


async def test_admin_down_fails_writes_with_503_but_doctor_still_answers(stack: DemoStack) -> None:
    """With the admin API unreachable a write is 503; doctor reads the admin as unreachable."""
    settings = server_settings(stack, restate_admin_url=f"http://127.0.0.1:{free_port()}")
    async with (
        running_server(settings) as down,
        httpx.AsyncClient(base_url=down.url, trust_env=False, timeout=30) as http,
    ):
        headers = {"X-Api-Key": OPERATOR_KEY}
        write = await http.post(
            f"{PREFIX}/force-redeploy", headers=headers, json={"serviceUrl": LIVE_SERVICE_URL}
        )
        doctor = await http.post(f"{PREFIX}/doctor", headers=headers, json={})
    assert (write.status_code, write.json()["code"]) == (503, "RESTATE_ADMIN_UNREACHABLE")
    assert (doctor.status_code, doctor.json()["admin"]["status"]) == (200, "unreachable")


async def test_redis_down_refuses_writes_but_doctor_and_refusals_still_answer(
    stack: DemoStack,
) -> None:
    """Without the audit store a write is 503 and Restate untouched; doctor answers and says so;
    a bad body still gets its 422; readiness reports Redis."""
    settings = server_settings(stack, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    before = await deployment_urls(stack)
    async with (
        running_server(settings) as down,
        httpx.AsyncClient(base_url=down.url, trust_env=False, timeout=30) as http,
    ):
        headers = {"X-Api-Key": OPERATOR_KEY}
        # A URL not registered yet: had the write gone through, it would be listed afterwards.
        unregistered = {"serviceUrl": f"{LIVE_SERVICE_URL}/audit-down"}
        write = await http.post(f"{PREFIX}/force-redeploy", headers=headers, json=unregistered)
        doctor = await http.post(f"{PREFIX}/doctor", headers=headers, json={})
        refused = await http.post(f"{PREFIX}/force-redeploy", headers=headers, json={})
        ready = await http.get("/readyz")
    assert (write.status_code, write.json()["code"]) == (503, "AUDIT_UNAVAILABLE")
    assert await deployment_urls(stack) == before
    assert doctor.status_code == 200
    assert doctor.json()["auditError"]
    assert (refused.status_code, refused.json()["data"]["field"]) == (422, "serviceUrl")
    assert ready.status_code == 503
    assert ready.json()["checks"]["restateAdmin"] == "ok"
    assert ready.json()["checks"]["redis"] != "ok"


# --- health --------------------------------------------------------------------------------------


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    """/healthz answers while the process runs; /readyz checks Redis and the admin API."""
    health = await http.get("/healthz")
    ready = await http.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()["checks"]) == (
        200,
        {"redis": "ok", "restateAdmin": "ok"},
    )


# --- no secret in any answer ---------------------------------------------------------------------

PASSWORD = "hunter2-not-for-answers"


async def test_restate_error_text_is_answered_without_the_password(
    http: httpx.AsyncClient, server: Server
) -> None:
    """A 502 keeps Restate's message, with the URL's user info replaced; the audit too."""
    url = f"http://admin:{PASSWORD}@127.0.0.1:{free_port()}/v1"
    response = await http.post(
        f"{PREFIX}/force-redeploy", headers={"X-Api-Key": OPERATOR_KEY}, json={"serviceUrl": url}
    )
    body = response.json()
    assert (response.status_code, body["code"]) == (502, "RESTATE_ADMIN_REQUEST_FAILED")
    assert "http://REDACTED@127.0.0.1" in body["data"]["restateMessage"]
    assert PASSWORD not in response.text
    row = await audit_row(server.settings, body["requestId"])
    assert PASSWORD not in row.model_dump_json()


async def test_not_found_answer_names_the_url_without_the_password(
    http: httpx.AsyncClient,
) -> None:
    """Cleanup of an unknown credentialed URL answers 404 without echoing its password."""
    response = await http.post(
        f"{PREFIX}/cleanup-stale-deployments",
        headers={"X-Api-Key": OPERATOR_KEY},
        json={"serviceUrl": f"http://admin:{PASSWORD}@nope:1/"},
    )
    assert (response.status_code, response.json()["code"]) == (404, "RESTATE_DEPLOYMENT_NOT_FOUND")
    assert PASSWORD not in response.text


async def test_doctor_lists_a_credentialed_deployment_without_its_password(
    http: httpx.AsyncClient, stack: DemoStack
) -> None:
    """Restate stores the deployment URI with its password; doctor's answer shows REDACTED."""
    uri = f"http://admin:{PASSWORD}@ddwf:9080/credentialed"
    async with RestateAdminClient(stack.restate.admin_url) as admin:
        registered = await admin.register_deployment(uri, force=True)
        try:
            assert uri in [d.endpoint for d in await admin.list_deployments()]
            response = await http.post(
                f"{PREFIX}/doctor", headers={"X-Api-Key": OPERATOR_KEY}, json={}
            )
        finally:
            await admin.delete_deployment(registered.id)
    urls = [item["serviceUrl"] for item in response.json()["deployments"]["items"]]
    assert "http://REDACTED@ddwf:9080/credentialed" in urls
    assert PASSWORD not in response.text
