"""The whole local stack in one context manager, for `restate-ops demo`.

`async with LocalStack() as stack:` starts restate-server, redis-server and the sample workflow
service in parallel, registers the service with Restate through the product's admin client, and
stops everything (deleting the temporary data) on exit.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from bot.devstack.processes import RedisServer, RestateServer, WorkflowService
from core.restate.client import RestateAdminClient


class LocalStack:
    def __init__(self) -> None:
        self.restate = RestateServer()
        self.redis = RedisServer()
        self.workflows = WorkflowService()
        self.deployment_id: str | None = None

    @property
    def admin_url(self) -> str:
        return self.restate.admin_url

    @property
    def ingress_url(self) -> str:
        return self.restate.ingress_url

    @property
    def redis_url(self) -> str:
        return self.redis.url

    async def start(self) -> Self:
        try:
            # A TaskGroup cancels the other starts as soon as one fails.
            try:
                async with asyncio.TaskGroup() as group:
                    for process in (self.restate, self.redis, self.workflows):
                        group.create_task(process.start())
            except BaseExceptionGroup as failed:
                raise failed.exceptions[0] from failed
            async with RestateAdminClient(self.restate.admin_url) as admin:
                deployment = await admin.register_deployment(self.workflows.url, force=True)
        except BaseException:
            await self.aclose()
            raise
        self.deployment_id = deployment.id
        return self

    async def aclose(self) -> None:
        # Each one on its own, so a failure to stop one never leaves the others running.
        results = await asyncio.gather(
            self.workflows.aclose(),
            self.restate.aclose(),
            self.redis.aclose(),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
