"""Fixtures for integration tests against the real binaries (see `bot.devstack`).

Session-wide: one Restate server (`restate_stack`) with the sample workflows registered
(`workflow_service`) and one redis-server (`redis_url`). Set `RESTATE_OPS_TEST_ADMIN_URL` (and
`RESTATE_OPS_TEST_INGRESS_URL`) or `RESTATE_OPS_TEST_REDIS_URL` to use existing servers instead:
the suite never reads the product's own variables (`RESTATE_ADMIN_URL`, `REDIS_URL`), so a shell
set up for the CLI cannot point the tests at a real server.

Tests on the shared server must use their own workflow keys (`workflow_key`): a workflow run id is
deterministic per (service, key). Tests that register or delete deployments, or stop the server,
use an isolated one from `fresh_restate`.

Slack: `bot` is the bot (`slack_harness.running_bot`) on the session's Restate and Redis with the
sample workflows; `start_bot(**overrides)` starts one with other settings, and a module that needs
another bot altogether defines its own `bot`. `two_environments` writes an environments file of
prod (the session's server) and staging (the second one).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from redis.asyncio import Redis

from bot.devstack import RedisServer, RestateServer, WorkflowIngress, WorkflowService
from bot.devstack.waiting import wait_for_status
from core.restate.client import RestateAdminClient
from tests.integration.environments_file import Value, write_two_environments
from tests.integration.slack_harness import SlackBot, running_bot

__all__ = ["RegisteredWorkflowService", "RestateStack", "wait_for_status"]

DEFAULT_EXTERNAL_INGRESS = "http://127.0.0.1:8080"
TEST_ADMIN_URL = "RESTATE_OPS_TEST_ADMIN_URL"
TEST_INGRESS_URL = "RESTATE_OPS_TEST_INGRESS_URL"
TEST_REDIS_URL = "RESTATE_OPS_TEST_REDIS_URL"


@dataclass(frozen=True)
class RestateStack:
    """Where the session's Restate server answers; `server` is None for an external one."""

    admin_url: str
    ingress_url: str
    server: RestateServer | None


@dataclass(frozen=True)
class RegisteredWorkflowService:
    """A running sample workflow service and the id of its deployment on `restate_stack`."""

    service: WorkflowService
    deployment_id: str

    @property
    def url(self) -> str:
        return self.service.url


StartRestate = Callable[[], Awaitable[RestateServer]]
StartWorkflowService = Callable[[], Awaitable[WorkflowService]]
StartBot = Callable[..., AbstractAsyncContextManager[SlackBot]]


class WriteTwoEnvironments(Protocol):
    """``two_environments``: writes the file, returns its path."""

    def __call__(
        self, *, prod: Mapping[str, Value] | None = None, staging: Mapping[str, Value] | None = None
    ) -> Path: ...


@pytest.fixture(scope="session")
async def restate_stack() -> AsyncIterator[RestateStack]:
    """The session's Restate server: started here, or the one at `RESTATE_OPS_TEST_ADMIN_URL`."""
    admin_url = os.environ.get(TEST_ADMIN_URL)
    if admin_url:
        ingress_url = os.environ.get(TEST_INGRESS_URL, DEFAULT_EXTERNAL_INGRESS)
        yield RestateStack(admin_url.rstrip("/"), ingress_url.rstrip("/"), None)
        return
    async with RestateServer() as server:
        yield RestateStack(server.admin_url, server.ingress_url, server)


@pytest.fixture(scope="session")
async def workflow_service(restate_stack: RestateStack) -> AsyncIterator[RegisteredWorkflowService]:
    """The sample workflows, running and registered (forced) with the session's server."""
    async with WorkflowService() as service:
        async with RestateAdminClient(restate_stack.admin_url) as admin:
            deployment = await admin.register_deployment(service.url, force=True)
        yield RegisteredWorkflowService(service, deployment.id)


@pytest.fixture
async def restate_admin(restate_stack: RestateStack) -> AsyncIterator[RestateAdminClient]:
    """The product's admin client for the session's server."""
    async with RestateAdminClient(restate_stack.admin_url) as admin:
        yield admin


@pytest.fixture
async def ingress(restate_stack: RestateStack) -> AsyncIterator[WorkflowIngress]:
    """An ingress client for the session's server (to start and approve workflow runs)."""
    async with WorkflowIngress(restate_stack.ingress_url) as client:
        yield client


@pytest.fixture
def workflow_key(request: pytest.FixtureRequest) -> str:
    """A workflow key no other test (or earlier run against an external server) has used."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def redis_server() -> AsyncIterator[RedisServer | None]:
    """The session's redis-server, or None when `RESTATE_OPS_TEST_REDIS_URL` names another."""
    if os.environ.get(TEST_REDIS_URL):
        yield None
        return
    async with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer | None) -> str:
    """URL of the session's redis (ours, or `RESTATE_OPS_TEST_REDIS_URL`)."""
    return redis_server.url if redis_server is not None else os.environ[TEST_REDIS_URL]


@pytest.fixture
async def redis_prefix(redis_server: RedisServer | None, redis_url: str) -> AsyncIterator[str]:
    """A key/stream prefix unique to this test; the db is flushed afterwards if the server is ours.

    Never flushes a server given through `RESTATE_OPS_TEST_REDIS_URL`: it may hold others' data.
    """
    yield f"test:{uuid.uuid4().hex[:12]}:"
    if redis_server is not None and redis_server.running:
        client: Redis = Redis.from_url(redis_url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()


@pytest.fixture
async def fresh_restate() -> AsyncIterator[StartRestate]:
    """Factory: `await fresh_restate()` starts an isolated RestateServer, stopped after the test."""
    servers: list[RestateServer] = []

    async def start() -> RestateServer:
        server = RestateServer()
        servers.append(server)
        return await server.start()

    try:
        yield start
    finally:
        for server in reversed(servers):
            await server.aclose()


@pytest.fixture
async def start_workflow_service() -> AsyncIterator[StartWorkflowService]:
    """Factory: `await start_workflow_service()` starts another sample service (not registered)."""
    services: list[WorkflowService] = []

    async def start() -> WorkflowService:
        service = WorkflowService()
        services.append(service)
        return await service.start()

    try:
        yield start
    finally:
        for service in reversed(services):
            await service.aclose()


@pytest.fixture(scope="session")
async def second_restate_stack() -> AsyncIterator[RestateStack]:
    """Another Restate server, for tests of several environments (started on first use)."""
    async with RestateServer() as server:
        yield RestateStack(server.admin_url, server.ingress_url, server)


@pytest.fixture(scope="session")
async def second_workflow_service(
    second_restate_stack: RestateStack,
) -> AsyncIterator[RegisteredWorkflowService]:
    """The sample workflows, running and registered with the second server."""
    async with WorkflowService() as service:
        async with RestateAdminClient(second_restate_stack.admin_url) as admin:
            deployment = await admin.register_deployment(service.url, force=True)
        yield RegisteredWorkflowService(service, deployment.id)


@pytest.fixture
def start_bot(
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    redis_url: str,
    redis_prefix: str,
) -> StartBot:
    """Factory: ``async with start_bot(**overrides) as bot`` runs the Slack bot on the session's
    Restate and Redis with the sample workflows as its live service; ``overrides`` are
    ``running_bot``'s keywords (``service_url=None``, ``fake=``, ``restate_ops_config=``, or
    settings)."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[SlackBot]:
        options: dict[str, Any] = {
            "admin_url": restate_stack.admin_url,
            "ingress_url": restate_stack.ingress_url,
            "redis_url": redis_url,
            "prefix": redis_prefix,
            "service_url": workflow_service.url,
            **overrides,
        }
        return running_bot(**options)

    return start


@pytest.fixture
async def bot(start_bot: StartBot) -> AsyncIterator[SlackBot]:
    """The Slack bot on the session's Restate and Redis (``start_bot()``)."""
    async with start_bot() as running:
        yield running


@pytest.fixture
def two_environments(
    tmp_path: Path,
    restate_stack: RestateStack,
    workflow_service: RegisteredWorkflowService,
    second_restate_stack: RestateStack,
    second_workflow_service: RegisteredWorkflowService,
) -> WriteTwoEnvironments:
    """Factory: ``two_environments(prod={...}, staging={...})`` writes ``restate-ops.toml`` (in
    ``tmp_path``) with prod on the session's server and staging, the default, on the second one,
    both with the sample workflows registered; the tables add keys to each environment's."""

    def write(
        *, prod: Mapping[str, Value] | None = None, staging: Mapping[str, Value] | None = None
    ) -> Path:
        return write_two_environments(
            tmp_path / "restate-ops.toml",
            restate_stack,
            second_restate_stack,
            prod_keys=prod,
            staging_keys=staging,
        )

    return write
