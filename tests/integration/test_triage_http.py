"""The triage HTTP routes, on the real app (ASGI), a real Restate server and a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.devstack import WorkflowIngress, free_port
from bot.environment_wiring import TRIAGE_PREFIX
from bot.http import build_http_app
from bot.services import Services, build_services
from bot.settings import load_settings
from core.audit import AttemptView
from core.triage.models import INTERRUPTED_MESSAGE
from core.triage.store import BulkActionStore
from tests.integration.admin_recorder import RecordingAdminProxy
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.test_triage_live import FIXABLE, discard, until_count
from tests.stopping import serving

pytestmark = pytest.mark.integration

PATH = "/api/v2/admin/operator/restate/invocations"
ALICE_KEY = "alice-key-0123456789abcdef"
BOB_KEY = "bob-key-0123456789abcdef"
AUDITOR_KEY = "auditor-key-0123456789abcdef"
HOLD_WHILE_STOPPING_S = 2.0


@dataclass
class Api:
    http: httpx.AsyncClient
    services: Services
    prefix: str

    async def post(self, path: str, key: str | None, body: Any = None) -> httpx.Response:
        headers = {"X-Api-Key": key} if key else {}
        return await self.http.post(PATH + path, json=body, headers=headers)

    async def audit(self) -> list[AttemptView]:
        return await self.services.audit.latest(50)


@pytest.fixture
async def api(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> AsyncIterator[Api]:
    settings = load_settings(
        restate_admin_url=restate_stack.admin_url,
        restate_ingress_url=restate_stack.ingress_url,
        redis_url=redis_url,
        audit_stream=f"{redis_prefix}audit",
        operator_api_keys=f"alice={ALICE_KEY},bob={BOB_KEY}",
        readonly_api_keys=f"auditor={AUDITOR_KEY}",
        slack_bot_token=None,
    )
    prefix = f"h{uuid.uuid4().hex[:8]}-"
    async with build_services(settings) as services:
        transport = httpx.ASGITransport(app=build_http_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            try:
                yield Api(http, services, prefix)
            finally:
                await discard(services.default.admin, prefix)


async def paused(api: Api, n: int, tmp: str) -> None:
    ingress_url = str(api.services.settings.restate_ingress_url)
    async with WorkflowIngress(ingress_url) as ingress:
        for i in range(n):
            await ingress.submit(FIXABLE, f"{api.prefix}{i}", {"fixedWhen": tmp})
    assert await until_count(api.services.default.admin, api.prefix, "status = 'paused'", n) == n


async def test_query_preview_approve_and_execute_over_http(api: Api, tmp_path: Any) -> None:
    """The whole flow: readout, preview, self-approval refused, bob approves, alice runs it."""
    await paused(api, 2, str(tmp_path / "fixed"))
    flt = {"service": FIXABLE, "keyPrefix": api.prefix}

    query = await api.post("/query", ALICE_KEY, {**flt, "shown": 1})
    preview = await api.post("/actions", ALICE_KEY, {"action": "kill", "filter": flt})
    action_id = preview.json()["actionId"]
    early = await api.post(f"/actions/{action_id}/execute", ALICE_KEY)
    own = await api.post(f"/actions/{action_id}/approve", ALICE_KEY)
    approved = await api.post(f"/actions/{action_id}/approve", BOB_KEY)
    run = await api.post(f"/actions/{action_id}/execute", ALICE_KEY)
    again = await api.post(f"/actions/{action_id}/execute", BOB_KEY)
    status = await api.http.get(f"{PATH}/actions/{action_id}", headers={"X-Api-Key": BOB_KEY})

    assert query.status_code == 200
    assert (query.json()["total"], len(query.json()["items"])) == (2, 1)
    assert {a["action"]: a["offered"] for a in query.json()["actions"]}["kill"] is True
    assert (preview.status_code, preview.json()["count"], preview.json()["needsApproval"]) == (
        200,
        2,
        True,
    )
    assert (early.status_code, early.json()["code"]) == (409, "APPROVAL_REQUIRED")
    assert early.json()["requestId"] == early.headers["X-Request-Id"]
    assert (own.status_code, own.json()["code"]) == (403, "SELF_APPROVAL_REFUSED")
    assert (approved.status_code, approved.json()["approvedBy"]) == (200, "bob")
    assert run.status_code == 200
    assert (run.json()["done"], run.json()["approvedBy"], run.json()["executedBy"]) == (
        2,
        "bob",
        "alice",
    )
    assert (again.status_code, again.json()["code"]) == (410, "PENDING_ACTION_UNAVAILABLE")
    assert (status.status_code, status.json()["state"], status.json()["done"]) == (
        200,
        "finished",
        2,
    )


async def test_refusals_keep_the_operator_routes_error_shape(api: Api) -> None:
    """No key 401, read-only key 403, bad JSON 400, bad filter 422, bad or unknown id 422 / 410."""
    unknown = "bulk_" + "0" * 32

    no_key = await api.post("/query", None, {})
    read_only = await api.post("/query", AUDITOR_KEY, {})
    not_json = await api.http.post(
        PATH + "/query", content=b"{nope", headers={"X-Api-Key": ALICE_KEY}
    )
    bad_filter = await api.post("/query", ALICE_KEY, {"status": ["sleeping"]})
    bad_code = await api.post("/query", ALICE_KEY, {"errorCode": "x' OR 1=1"})
    bad_id = await api.post("/actions/bulk_NOT-hex/execute", ALICE_KEY)
    gone = await api.post(f"/actions/{unknown}/approve", BOB_KEY)

    assert (no_key.status_code, no_key.json()["code"]) == (401, "UNAUTHENTICATED")
    assert (read_only.status_code, read_only.json()["code"]) == (
        403,
        "OFFCHAIN_USER_PERMISSION_REQUIRED",
    )
    assert (not_json.status_code, not_json.json()["code"]) == (400, "INVALID_INPUT")
    assert (bad_filter.status_code, bad_filter.json()["data"]["field"]) == (422, "status.0")
    assert (bad_code.status_code, bad_code.json()["data"]["field"]) == (422, "errorCode")
    assert (bad_id.status_code, bad_id.json()["data"]["field"]) == (422, "actionId")
    assert (gone.status_code, gone.json()["code"]) == (410, "PENDING_ACTION_UNAVAILABLE")
    audited = {(v.start.actor.id, v.start.route, v.outcome) for v in await api.audit()}
    assert ("anonymous", "invocations-query", "denied") in audited
    assert ("auditor", "invocations-query", "denied") in audited


async def test_execute_without_waiting_answers_202_and_the_status_follows(
    api: Api, tmp_path: Any
) -> None:
    """wait=false: 202 once started (refusals still answered at once), then GET shows the end."""
    flag = tmp_path / "fixed"
    await paused(api, 3, str(flag))
    flt = {"service": FIXABLE, "keyPrefix": api.prefix}
    kill = await api.post("/actions", ALICE_KEY, {"action": "kill", "filter": flt})
    resume = await api.post("/actions", ALICE_KEY, {"action": "resume", "filter": flt})
    flag.touch()

    refused = await api.post(
        f"/actions/{kill.json()['actionId']}/execute", ALICE_KEY, {"wait": False}
    )
    bad = await api.post(f"/actions/{resume.json()['actionId']}/execute", ALICE_KEY, {"w": 1})
    accepted = await api.post(
        f"/actions/{resume.json()['actionId']}/execute", ALICE_KEY, {"wait": False}
    )
    status: dict[str, Any] = {}
    async with asyncio.timeout(30):
        while status.get("state") != "finished":
            answer = await api.http.get(accepted.json()["status"], headers={"X-Api-Key": BOB_KEY})
            status = answer.json()
            await asyncio.sleep(0.05)  # polling the route under test, not waiting for readiness

    assert (refused.status_code, refused.json()["code"]) == (409, "APPROVAL_REQUIRED")
    assert (bad.status_code, bad.json()["data"]["field"]) == (422, "body")
    assert (accepted.status_code, accepted.json()["state"]) == (202, "running")
    assert (status["done"], status["executedBy"]) == (3, "alice")


async def test_serve_finishes_a_run_started_without_waiting_before_it_stops(
    api: Api, restate_stack: RestateStack, tmp_path: Any
) -> None:
    """A ``"wait": false`` run still going when ``serve`` is told to stop is drained, not lost:
    its Restate writes are held while ``serve`` stops (a ``serve`` that does not drain returns
    meanwhile, its clients closed under the run), then every invocation is still resumed before
    ``serve`` returns."""
    flag = tmp_path / "fixed"
    await paused(api, 3, str(flag))
    async with RecordingAdminProxy(restate_stack.admin_url) as proxy:
        settings = api.services.settings.model_copy(
            update={"host": "127.0.0.1", "port": free_port(), "restate_admin_url": proxy.url}
        )
        async with serving(settings) as served:
            async with httpx.AsyncClient(base_url=served.url + PATH, trust_env=False) as http:
                headers = {"X-Api-Key": ALICE_KEY}
                flt = {"service": FIXABLE, "keyPrefix": api.prefix}
                body = {"action": "resume", "filter": flt}
                preview = await http.post("/actions", json=body, headers=headers)
                flag.touch()
                proxy.hold_writes()
                action = preview.json()["actionId"]
                execute = f"/actions/{action}/execute"
                accepted = await http.post(execute, json={"wait": False}, headers=headers)
            served.stop.set()
            try:
                # Well within the drain's 15 s; a serve that does not drain has returned by then.
                await asyncio.wait({served.task}, timeout=HOLD_WHILE_STOPPING_S)
            finally:
                proxy.release_writes()
    status = await api.http.get(f"{PATH}/actions/{action}", headers={"X-Api-Key": BOB_KEY})

    assert (accepted.status_code, accepted.json()["state"]) == (202, "running")
    assert (status.json()["state"], status.json()["done"]) == ("finished", 3)


async def test_a_run_whose_process_died_reads_interrupted_and_cannot_be_rerun(
    api: Api, tmp_path: Any
) -> None:
    """Claimed long ago and never checkpointed since: GET says interrupted with what to do next,
    execute and cancel answer 410 with the same message."""
    await paused(api, 2, str(tmp_path / "fixed"))
    flt = {"service": FIXABLE, "keyPrefix": api.prefix}
    preview = await api.post("/actions", ALICE_KEY, {"action": "resume", "filter": flt})
    action_id = preview.json()["actionId"]
    store = BulkActionStore(api.services.redis, prefix=TRIAGE_PREFIX)
    await store.claim(action_id, "alice", now_ms=1)  # the process died at once, in 1970

    status = await api.http.get(f"{PATH}/actions/{action_id}", headers={"X-Api-Key": BOB_KEY})
    rerun = await api.post(f"/actions/{action_id}/execute", BOB_KEY)
    cancel = await api.post(f"/actions/{action_id}/cancel", BOB_KEY)

    assert status.status_code == 200
    body = status.json()
    assert (body["state"], body["done"], body["total"], body["executedBy"]) == (
        "interrupted",
        0,
        2,
        "alice",
    )
    assert body["message"] == INTERRUPTED_MESSAGE
    for refused in (rerun, cancel):
        assert refused.status_code == 410
        assert (refused.json()["code"], refused.json()["message"]) == (
            "PENDING_ACTION_UNAVAILABLE",
            INTERRUPTED_MESSAGE,
        )
