"""The HTTP route where a second operator approves a held write (``core.two_person``).

    POST /api/v2/admin/operator/restate/approvals/{approvalId}/approve

A cleanup with ``forceDrain: true`` answers 202 ``APPROVAL_REQUIRED`` with ``data.approvalId``
and ``data.expiresAt``; this route, called with *another* operator's ``X-Api-Key``, runs it and
answers the cleanup's normal body. The requester's own key gets 403 ``SELF_APPROVAL_REFUSED``; an
expired, used or unknown id 410 ``PENDING_ACTION_UNAVAILABLE`` (``data.state``). Same auth, error
shape and ``X-Request-Id`` as the operator routes (``bot.http``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import http_environment
from bot.http import OPERATOR_PATH, _actor, _authenticate, _context, _json, _reason, _resolved
from bot.json_body import BodyRefused, read_body
from bot.services import Services
from core.approvals import UNKNOWN_ROUTE, Approvals
from core.authz import can_operate
from core.environments import Environment
from core.errors import InvalidInput, OpsError
from core.ids import new_request_id
from core.models import to_json_dict
from core.operations import Attempt, Operations

log = logging.getLogger(__name__)

PATH = f"{OPERATOR_PATH}/approvals"
_APPROVAL_ID = re.compile(r"^apr_[0-9a-f]{32}$")


def approval_routes(services: Services) -> list[Route]:
    """The approval route, mounted by ``bot.http.build_http_app``."""
    approvals = Approvals(services.environments, services.pending)
    endpoint = _endpoint(services, approvals, http_environment.unscoped_operations(services))
    return [Route(PATH + "/{approval_id}/approve", endpoint, methods=["POST"])]


def _endpoint(
    services: Services, approvals: Approvals, unscoped: Operations
) -> Callable[[Request], Awaitable[Response]]:
    """Like the operator routes, the request names its environment (``X-Restate-Environment``,
    else the default) and its key must be valid there; the approval must belong to it."""

    async def endpoint(request: Request) -> Response:
        request_id = new_request_id()
        resolved = _resolved(services.environments, request)
        env: Environment | None = resolved if isinstance(resolved, Environment) else None
        attempt = Attempt(
            actor=_actor(None),
            reason=_reason(request),
            context=_context(request),
            request_id=request_id,
        )
        approval_id = str(request.path_params["approval_id"])
        args = {"approvalId": approval_id[:100]}
        try:
            env, key, attempt = await _authenticate(
                services, unscoped, resolved, UNKNOWN_ROUTE, attempt, request
            )
            operations = env.operations
            if not _APPROVAL_ID.fullmatch(approval_id):
                bad = InvalidInput("approvalId", "must be an id from data.approvalId (apr_…)")
                await operations.refuse(attempt, UNKNOWN_ROUTE, args, bad)
            if can_operate(key.role):  # anyone else is refused by core before the body counts
                await _empty_body(operations, attempt, args, request)
            result = await approvals.approve(attempt, approval_id, environment=env.name)
            body, status = to_json_dict(result.response), 200
        except BodyRefused as exc:
            body, status = exc.error.with_request_id(request_id).to_body(), exc.status
        except OpsError as exc:
            body, status = exc.with_request_id(request_id).to_body(), exc.http_status
        except Exception:
            # The caller still gets the error shape and a request id; the traceback stays here.
            log.exception("approve failed unexpectedly (request %s)", request_id)
            body = OpsError("Internal error.").with_request_id(request_id).to_body()
            status = 500
        log.info("approve -> %d actor=%s request_id=%s", status, attempt.actor.id, request_id)
        return _json(body, status, request_id, env)

    return endpoint


async def _empty_body(
    operations: Operations, attempt: Attempt, args: dict[str, str], request: Request
) -> None:
    """The route takes no arguments: no body, or ``{}``. A refusal is audited."""
    try:
        body = await read_body(request.stream())
    except BodyRefused as exc:
        try:
            await operations.refuse(attempt, UNKNOWN_ROUTE, args, exc.error)
        except OpsError:
            raise exc from None
    if body:
        await operations.refuse(
            attempt, UNKNOWN_ROUTE, args, InvalidInput("body", "must be empty or {}")
        )
