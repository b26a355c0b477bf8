"""The local stack: a real Restate server, redis-server and sample workflows on loopback ports.

Used by the integration-test fixtures and by `restate-ops demo`. Importing this package does not
import the Restate SDK (only `bot.devstack.workflows` needs it, and it runs in a subprocess).
"""

from bot.devstack.binaries import BinaryNotFoundError, redis_server_binary, restate_server_binary
from bot.devstack.ingress import Submission, WorkflowIngress, WorkflowOutput
from bot.devstack.processes import (
    ManagedProcess,
    RedisServer,
    RestateServer,
    StartupError,
    WorkflowService,
    free_port,
    free_ports,
)
from bot.devstack.waiting import StatusTimeoutError, invocation_row, wait_for_status

__all__ = [
    "BinaryNotFoundError",
    "ManagedProcess",
    "RedisServer",
    "RestateServer",
    "StartupError",
    "StatusTimeoutError",
    "Submission",
    "WorkflowIngress",
    "WorkflowOutput",
    "WorkflowService",
    "free_port",
    "free_ports",
    "invocation_row",
    "redis_server_binary",
    "restate_server_binary",
    "wait_for_status",
]
