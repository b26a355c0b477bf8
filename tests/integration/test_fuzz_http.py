"""Generated bodies for the four operator routes (hypothesis), against the real bot, Restate, Redis.

For every generated request: the answer is never a 5xx and never carries a URL's password; an
attempt that is refused (400, 401, 403, 413, 422) made no Restate write (a recording proxy sits
between the bot and the admin API); every attempt left one audit row under its request id.

Deterministic (``derandomize=True``, no example database) and bounded (``max_examples``), so a
failure reproduces on the next run and the module stays within a few seconds per route.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devstack import free_port
from bot.services import build_services
from bot.settings import load_settings
from core.audit.store import RedisAuditLog
from tests.integration.admin_recorder import RecordingAdminProxy
from tests.integration.conftest import RegisteredWorkflowService, RestateStack
from tests.integration.test_http_routes import running_server

pytestmark = pytest.mark.integration

PREFIX = "/api/v2/admin/operator/restate"
ROUTES = ("doctor", "force-redeploy", "cleanup-stale-deployments", "recover-stuck-workflow")
OPERATOR_KEY = "fuzz_operator_key_0123456789"
READONLY_KEY = "fuzz_readonly_key_0123456789"
PASSWORD = "fuzz-hunter2"
#: Answers that refuse before anything is sent to Restate.
REFUSED = {400, 401, 403, 413, 422}

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TRICKY_STRINGS = [
    "",
    " ",
    "\ud800",
    "http://x/\udfff",
    "\x00",
    "\n",
    "http://",
    "http:///path",
    "ftp://host/",
    f"http://admin:{PASSWORD}@nope:1/",
    f"http://admin:{PASSWORD}@127.0.0.1:1/v1",
    "IdentityRecoveryWorkflow",
    "a/b",
    "../../deployments",
    "%2e%2e",
    "'; DROP TABLE sys_invocation; --",
    "x" * 5000,
    "🙂",
]
TRICKY_RAW = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{",
    b'{"serviceUrl": ' + b"[" * 1500 + b"]" * 1500 + b"}",
    b"[" * 30_000,
    b'{"force": NaN}',
    b'{"force": -Infinity}',
    b'{"force": 1e400}',
    b'{"force": ' + b"7" * 5000 + b"}",
    b'{"serviceUrl": "http://a/", "serviceUrl": "http://b/"}',
    b'{"\\ud800": 1}',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"\xc3\x28",
    b" " * (64 * 1024 + 1),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(TRICKY_STRINGS)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["serviceUrl", "force", "forceDrain", "serviceName", "serviceKey"])
objects = st.dictionaries(field_names | st.text(max_size=12), values, max_size=5)
raw_bodies = (
    objects.map(lambda body: json.dumps(body).encode())
    | st.sampled_from(TRICKY_RAW)
    | st.binary(max_size=120)
)
api_keys = st.sampled_from([OPERATOR_KEY, OPERATOR_KEY, OPERATOR_KEY, READONLY_KEY, None, "nope"])


@dataclass(frozen=True)
class Target:
    http: httpx.AsyncClient
    audit: RedisAuditLog
    proxy: RecordingAdminProxy


@pytest.fixture(scope="module")
async def target(
    restate_stack: RestateStack, workflow_service: RegisteredWorkflowService, redis_url: str
) -> AsyncIterator[Target]:
    """`restate-ops serve` whose admin API is the recording proxy in front of the real one."""
    async with RecordingAdminProxy(restate_stack.admin_url) as proxy:
        config = load_settings(
            restate_admin_url=proxy.url,
            restate_ingress_url=restate_stack.ingress_url,
            restate_service_url=workflow_service.url,
            redis_url=redis_url,
            audit_stream=f"fuzz:{uuid.uuid4().hex[:8]}:audit",
            operator_api_keys=f"fuzzer={OPERATOR_KEY}",
            readonly_api_keys=f"auditor={READONLY_KEY}",
            slack_bot_token=None,
            slack_signing_secret=None,
            slack_app_token=None,
            host="127.0.0.1",
            port=free_port(),
        )
        async with (
            running_server(config) as server,
            build_services(config) as services,
            httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http,
        ):
            yield Target(http, services.audit, proxy)


async def attempt(target: Target, route: str, body: bytes, key: str | None) -> None:
    """Send one request and check the properties every answer must have."""
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    sent_before = len(target.proxy.requests)
    response = await target.http.post(f"{PREFIX}/{route}", content=body, headers=headers)
    answer: dict[str, Any] = response.json()
    # The one 5xx allowed is Restate's own refusal of a valid request, passed on as 502.
    assert response.status_code < 500 or answer["code"] == "RESTATE_ADMIN_REQUEST_FAILED", answer
    assert PASSWORD not in response.text
    request_id = response.headers["x-request-id"]
    if response.status_code in REFUSED:
        assert answer["requestId"] == request_id
        assert target.proxy.writes(since=sent_before) == []
    rows = [v for v in await target.audit.latest(3) if v.start.request_id == request_id]
    assert len(rows) == 1, f"no audit row for {request_id} ({response.status_code})"
    assert rows[0].finish is not None


@pytest.mark.parametrize("route", ROUTES)
@FUZZ
@given(body=raw_bodies, key=api_keys)
async def test_any_body_is_answered_audited_and_writes_nothing_when_refused(
    target: Target, route: str, body: bytes, key: str | None
) -> None:
    """Whatever the body and key: no 5xx of ours, no password, one audit row, no refused write."""
    await attempt(target, route, body, key)
