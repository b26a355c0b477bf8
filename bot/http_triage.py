"""HTTP routes for bulk triage of invocations, beside the operator routes (same auth, same errors).

Under ``/api/v2/admin/operator/restate/invocations``:

    POST /query                   a filter (+ ``shown``): counts, first items, actions on offer
    POST /actions                 ``{"action", "filter", "deployment"?}``: preview, stored
    GET  /actions/{id}            its state, or its final per-item report
    POST /actions/{id}/approve    the second operator's approval (two-person rule)
    POST /actions/{id}/execute    run it on exactly the previewed ids; per-item report
                                  (``{"wait": false}``: 202 once started, then GET it)
    POST /actions/{id}/cancel     withdraw it, or stop a running one

The optional ``X-Restate-Environment`` header picks the environment (absent: the default one,
``bot.http_environment``); each environment has its own stored actions, so an action id is
found only in the environment that previewed it. ``X-Api-Key`` names the actor and is checked in
that environment's keyring (401 without a key valid there, 403 for a read-only key); an unknown
environment is 422 ``INVALID_INPUT`` on the header (401 to a caller no environment knows).
Answers name their environment in the same header; errors have the shape
``{"code", "message", "data", "requestId"}`` with ``X-Request-Id``. Validation, authorization,
the two-person rule and the audit are core's (``core.triage.service``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import http_environment
from bot.http import OPERATOR_PATH, _actor, _context, _json, _reason
from bot.json_body import BodyRefused, read_body
from bot.metrics import MeteredAuditLog
from bot.services import Services
from core.authz import can_operate
from core.environments import Environment
from core.errors import InvalidInput, OpsError, PermissionRequired
from core.ids import new_request_id
from core.models import to_json_dict
from core.operations import Attempt
from core.tasks import TaskSet
from core.triage.audited import AuditedAttempts
from core.triage.service import Triage, TriageRoute, utc_now

log = logging.getLogger(__name__)

PATH = f"{OPERATOR_PATH}/invocations"
_ACTION_ID = re.compile(r"^bulk_[0-9a-f]{32}$")

Handler = Callable[[Triage, Attempt, Request], Awaitable[dict[str, Any]]]


def triage_routes(services: Services, runs: TaskSet) -> list[Route]:
    """The triage routes, mounted by ``bot.http.build_http_app``; runs started with
    ``"wait": false`` go on in ``runs``, which ``serve`` drains at shutdown."""
    # Refusals of a request naming no known environment: audited under no environment.
    unscoped = AuditedAttempts(MeteredAuditLog(services.audit, services.metrics), utc_now)
    table: list[tuple[str, str, TriageRoute, Handler]] = [
        ("POST", "/query", "invocations-query", _query),
        ("POST", "/actions", "invocations-preview", _preview),
        ("GET", "/actions/{action_id}", "invocations-status", _status),
        ("POST", "/actions/{action_id}/approve", "invocations-approve", _approve),
        ("POST", "/actions/{action_id}/execute", "invocations-execute", _executor(runs)),
        ("POST", "/actions/{action_id}/cancel", "invocations-cancel", _cancel),
    ]
    return [
        Route(PATH + path, _endpoint(services, unscoped, route, handler), methods=[method])
        for method, path, route, handler in table
    ]


def _endpoint(
    services: Services, unscoped: AuditedAttempts, route: TriageRoute, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request_id = new_request_id()
        env: Environment | None = None
        attempt = Attempt(
            actor=_actor(None),
            reason=_reason(request),
            context=_context(request),
            request_id=request_id,
        )
        try:
            env = await _environment(services, unscoped, route, attempt, request)
            triage = env.require_triage()
            caller = http_environment.authenticate(services.environments, env, request)
            key = caller.key
            attempt = replace(attempt, actor=_actor(key))
            if key is None:
                await triage.refuse(attempt, route, caller.refusal(env))
            if not can_operate(key.role):
                # Refused before the body is read: a caller without permission learns nothing.
                denied = f"{key.name} does not have system operate permission."
                await triage.refuse(attempt, route, PermissionRequired(denied))
            body = await handler(triage, attempt, request)
            status = 202 if isinstance(body, _Accepted) else 200
        except BodyRefused as exc:
            try:
                await triage.refuse(attempt, route, exc.error)
            except OpsError as refused:
                body, status = refused.to_body(), exc.status
        except OpsError as exc:
            body, status = exc.with_request_id(request_id).to_body(), exc.http_status
        except Exception:
            # The caller still gets the error shape and a request id; the traceback stays here.
            log.exception("%s failed unexpectedly (request %s)", route, request_id)
            body = OpsError("Internal error.").with_request_id(request_id).to_body()
            status = 500
        actor, where = attempt.actor.id, env.name if env else "-"
        log.info("%s -> %d env=%s actor=%s request_id=%s", route, status, where, actor, request_id)
        response = _json(body, status, request_id)
        response.headers.update(http_environment.response_headers(env))
        return response

    return endpoint


async def _environment(
    services: Services,
    unscoped: AuditedAttempts,
    route: TriageRoute,
    attempt: Attempt,
    request: Request,
) -> Environment:
    """The environment the header names (else the default); an unknown one is refused, audited
    under no environment: 422 on the header to a caller some environment knows, else 401."""
    try:
        return http_environment.resolve(services.environments, request)
    except InvalidInput as unknown:
        actor, args, error = http_environment.unknown_environment_refusal(
            services.environments, request, unknown
        )
        await unscoped.refuse(replace(attempt, actor=actor or attempt.actor), route, args, error)


async def _query(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
    return to_json_dict(await triage.query(attempt, await _body(request)))


async def _preview(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
    return to_json_dict(await triage.preview(attempt, await _body(request)))


async def _status(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
    return to_json_dict(await triage.report(attempt, _action_id(request)))


async def _approve(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
    action = await triage.approve(attempt, _action_id(request))
    return {
        "actionId": action.id,
        "approvedBy": attempt.actor.id,
        "requestedBy": action.requested_by,
    }


class _Accepted(dict[str, Any]):
    """An answer sent before the work is done: 202."""


def _executor(runs: TaskSet) -> Handler:
    async def execute(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
        """Run it and answer the report; with ``{"wait": false}`` answer 202 once it has
        started."""
        action_id = _action_id(request)
        body = await _body(request)
        wait = body.get("wait", True)
        if not isinstance(wait, bool) or set(body) - {"wait"}:
            raise BodyRefused("body", 'takes only {"wait": true|false}', 422)
        if wait:
            return to_json_dict(await triage.execute(attempt, action_id))
        started = asyncio.Event()
        run = runs.start(
            triage.execute(attempt, action_id, on_start=started.set), name=f"triage {action_id}"
        )
        until_started = asyncio.create_task(started.wait())
        try:
            await asyncio.wait({run, until_started}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            until_started.cancel()
        if run.done() and not started.is_set():
            run.result()  # refused before it started (approval, already run): raises the OpsError
        return _Accepted(actionId=action_id, state="running", status=f"{PATH}/actions/{action_id}")

    return execute


async def _cancel(triage: Triage, attempt: Attempt, request: Request) -> dict[str, Any]:
    action_id = _action_id(request)
    return {"actionId": action_id, "result": await triage.cancel(attempt, action_id)}


def _action_id(request: Request) -> str:
    action_id = str(request.path_params["action_id"])
    if not _ACTION_ID.fullmatch(action_id):
        raise BodyRefused("actionId", "must be an id returned by POST .../actions", 422)
    return action_id


async def _body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (empty reads as ``{}``), by the operator routes' rules."""
    return await read_body(request.stream())
