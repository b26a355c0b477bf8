"""The HTTP surface: the operator guide's routes, health probes and Slack's HTTP mode, in one app.

    POST /api/v2/admin/operator/restate/doctor                     {}
    POST /api/v2/admin/operator/restate/force-redeploy             {"serviceUrl", "force"?}
    POST /api/v2/admin/operator/restate/cleanup-stale-deployments  {"serviceUrl", "forceDrain"?}
    POST /api/v2/admin/operator/restate/recover-stuck-workflow     {"serviceName", "serviceKey"}
    GET  /healthz        the process answers
    GET  /readyz         Redis and every environment's Restate admin API answer
    GET  /metrics        Prometheus metrics (operations, audit, watch, last readout)
    POST /slack/events   Slack in HTTP mode (only when a Slack app is given)

An operator route is thin: pick the environment (the optional ``X-Restate-Environment`` header,
``bot.http_environment``; absent: the default one), identify the ``X-Api-Key`` in that
environment's keyring, turn it into an actor with a role, call that environment's
``core.operations``, render JSON. Every answer names its environment in the same header.
Authorization, validation and the audit are core's, so the routes get the same checks and the
same audit as Slack and the CLI. Every operator response carries ``X-Request-Id``; error bodies
carry it too, as ``requestId``, and so does the audit row.

Status codes: 401 missing or unknown key (or a key of another environment), 422 an unknown
environment, 403 key without operate permission, 400 body that is not
a JSON object, 413 body too large, 422 a field breaks a rule (``bot.json_body`` lists the body's
rules), then the error tree's own classes (404 deployment not found, 409 retry blocked, 502 admin
error, 503 admin or audit unavailable). A write held for a second operator (``APPROVAL_REQUIRED``,
``core.two_person``) is 202 with the error body; ``bot.http_approvals`` approves it. Every
answer leaves through ``redact_outgoing``: no URL user info, nothing UTF-8 cannot carry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, get_args

from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import http_environment
from bot.json_body import BodyRefused, read_body
from bot.metrics import metrics_endpoint
from bot.payloads import doctor_payload
from bot.services import Services
from bot.slack_events import slack_events_endpoint
from core.audit import Actor
from core.authz import NO_ROLE, ApiKey, can_operate
from core.environments import Environment, Environments
from core.errors import ApprovalRequired, InvalidInput, OpsError
from core.ids import new_request_id
from core.models import DoctorRequest, parse_request, to_json_dict
from core.models import Route as OperationRoute
from core.operations import Attempt, Operations
from core.redact import redact_outgoing, redact_text
from core.tasks import TaskSet

log = logging.getLogger(__name__)

OPERATOR_PATH = "/api/v2/admin/operator/restate"
API_KEY_HEADER = http_environment.API_KEY_HEADER
REQUEST_ID_HEADER = "X-Request-Id"
#: Optional free text recorded in the audit row (the operator guide's bodies have no field for it).
REASON_HEADER = "x-reason"
MAX_REASON_CHARS = 500
READY_TIMEOUT_S = 2.0
ANONYMOUS = "anonymous"


def build_http_app(
    services: Services, slack_app: AsyncApp | None = None, *, runs: TaskSet | None = None
) -> Starlette:
    """The ASGI app ``restate-ops serve`` runs; ``slack_app`` adds Slack's HTTP-mode endpoint.
    Work that outlives its request (a triage run started with ``"wait": false``) goes on in
    ``runs``, for the caller to drain at shutdown."""
    unscoped = http_environment.unscoped_operations(services)
    routes = [
        Route(
            f"{OPERATOR_PATH}/{name}",
            _operator_endpoint(services, name, unscoped),
            methods=["POST"],
        )
        for name in get_args(OperationRoute)
    ]
    # Imported here: bot.http_triage and bot.http_approvals reuse this module's request helpers.
    from bot.http_approvals import approval_routes
    from bot.http_triage import triage_routes

    routes += triage_routes(services, runs or TaskSet())
    routes += approval_routes(services)
    routes += [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/readyz", _readyz_endpoint(services), methods=["GET"]),
        Route("/metrics", metrics_endpoint(services.metrics), methods=["GET"]),
    ]
    if slack_app is not None:
        secret = services.settings.slack_signing_secret
        endpoint = slack_events_endpoint(slack_app, secret.get_secret_value() if secret else "")
        routes.append(Route("/slack/events", endpoint, methods=["POST"]))
    return Starlette(routes=routes)


# --- operator routes ----------------------------------------------------------------------------


def _operator_endpoint(
    services: Services, route: OperationRoute, unscoped: Operations
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request_id = new_request_id()
        resolved = _resolved(services.environments, request)
        env = resolved if isinstance(resolved, Environment) else None
        attempt = Attempt(
            actor=_actor(None),
            reason=_reason(request),
            context=_context(request),
            request_id=request_id,
        )
        try:
            env, key, attempt = await _authenticate(
                services, unscoped, resolved, route, attempt, request
            )
            body, status = await _run(env.operations, attempt, route, key, request), 200
        except OpsError as exc:
            body, status = exc.with_request_id(request_id).to_body(), _status_of(exc)
        except BodyRefused as exc:
            body, status = exc.error.with_request_id(request_id).to_body(), exc.status
        except Exception:
            # The one catch-all of the HTTP surface: the caller still gets the operator guide's
            # error shape and a request id to report, and the traceback stays in our log.
            log.exception("%s failed unexpectedly (request %s)", route, request_id)
            body = OpsError("Internal error.").with_request_id(request_id).to_body()
            status = 500
        log.info(
            "POST %s -> %d env=%s actor=%s request_id=%s",
            route,
            status,
            env.name if env else "-",
            attempt.actor.id,
            request_id,
        )
        return _json(body, status, request_id, env)

    return endpoint


def _resolved(environments: Environments, request: Request) -> Environment | InvalidInput:
    try:
        return http_environment.resolve(environments, request)
    except InvalidInput as exc:
        return exc


async def _authenticate(
    services: Services,
    unscoped: Operations,
    env: Environment | InvalidInput,
    route: str,
    attempt: Attempt,
    request: Request,
) -> tuple[Environment, ApiKey, Attempt]:
    """The environment, the key valid there and the attempt's actor; refusals audited.

    An unknown environment is refused (422 naming the header and the valid names) to a caller
    whose key some environment knows; anyone else gets the 401 and learns no environment name.
    Either way the entry names no environment: the request acted on none. The body of an
    unauthenticated caller is not passed on: the audit keeps who and what route, not whatever a
    stranger chose to send.
    """
    environments = services.environments
    if isinstance(env, InvalidInput):
        actor, args, error = http_environment.unknown_environment_refusal(
            environments, request, env
        )
        await unscoped.refuse(replace(attempt, actor=actor or attempt.actor), route, args, error)
    caller = http_environment.authenticate(environments, env, request)
    attempt = replace(attempt, actor=_actor(caller.key))
    if caller.key is None:
        await env.operations.refuse(attempt, route, {}, caller.refusal(env))
    return env, caller.key, attempt


def _status_of(error: OpsError) -> int:
    """A write held for a second operator was accepted, not refused: 202."""
    return 202 if isinstance(error, ApprovalRequired) else error.http_status


async def _run(
    operations: Operations,
    attempt: Attempt,
    route: OperationRoute,
    key: ApiKey,
    request: Request,
) -> dict[str, Any]:
    try:
        body: dict[str, Any] | BodyRefused = await read_body(request.stream())
    except BodyRefused as exc:
        body = exc
    if can_operate(key.role):
        # Anyone else is refused (and audited) by core before it reads any argument, so a caller
        # without permission learns nothing about the body from the answer.
        await _check_body(operations, attempt, route, body)
    args = body if isinstance(body, dict) else {}
    if route == "doctor":
        return doctor_payload(await operations.doctor(attempt))
    result = await operations.execute(attempt, route, args)
    return to_json_dict(result.response)


async def _check_body(
    operations: Operations,
    attempt: Attempt,
    route: OperationRoute,
    body: dict[str, Any] | BodyRefused,
) -> None:
    """What core cannot check: a body that breaks ``bot.json_body``'s rules, and doctor's body
    (core takes no arguments for it). The refusal is audited with what was sent, if readable."""
    if isinstance(body, BodyRefused):
        try:
            await operations.refuse(attempt, route, body.parsed or {}, body.error)
        except InvalidInput:
            raise body from None
    if route == "doctor":
        # The operator guide's doctor body is `{}`: an unknown field is refused as on writes.
        try:
            parse_request(DoctorRequest, body)
        except InvalidInput as exc:
            await operations.refuse(attempt, route, body, exc)


def _actor(key: ApiKey | None) -> Actor:
    if key is None:
        return Actor(id=ANONYMOUS, surface="http", display_name="no valid API key", role=NO_ROLE)
    # The key's configured name is the actor: stable, and never the secret itself.
    return Actor(id=key.name, surface="http", display_name=f"API key {key.name}", role=key.role)


def _reason(request: Request) -> str | None:
    reason = request.headers.get(REASON_HEADER, "").strip()
    return reason[:MAX_REASON_CHARS] or None


def _context(request: Request) -> dict[str, str]:
    context: dict[str, str] = {}
    if request.client is not None:
        context["client"] = request.client.host
    user_agent = request.headers.get("user-agent")
    if user_agent:
        context["user_agent"] = user_agent[:200]
    return context


def _json(
    body: dict[str, Any], status: int, request_id: str, env: Environment | None = None
) -> JSONResponse:
    headers = {
        REQUEST_ID_HEADER: request_id,
        "Cache-Control": "no-store",
        **http_environment.response_headers(env),
    }
    if status == 401:
        headers["WWW-Authenticate"] = 'ApiKey header="X-Api-Key"'
    # The boundary where text leaves: Restate stores a deployment URI with its password, so any
    # field (serviceUrl, a 502's restateMessage, a preview) may carry one.
    return JSONResponse(redact_outgoing(body), status_code=status, headers=headers)


# --- health -------------------------------------------------------------------------------------


async def _healthz(request: Request) -> Response:
    """Liveness: the process serves requests. Dependencies are /readyz's business."""
    return JSONResponse({"status": "ok"})


def _readyz_endpoint(services: Services) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        """Readiness: Redis (audit) and every environment's Restate admin API answer.

        Every one is checked, none stops the others. ``checks.restateAdmin`` is ``ok`` or says
        which environment is not ready and why; ``environments`` has one result per environment.
        """
        envs = list(services.environments)
        redis, *admins = await asyncio.gather(
            _check(services.redis.ping), *(_check(env.admin.ready) for env in envs)
        )
        by_env = {env.name: result for env, result in zip(envs, admins, strict=True)}
        failing = {name: result for name, result in by_env.items() if result != "ok"}
        if not failing:
            admin = "ok"
        elif services.environments.several:
            admin = "; ".join(f"{name}: {result}" for name, result in failing.items())
        else:
            admin = next(iter(failing.values()))
        ready = redis == "ok" and not failing
        return JSONResponse(
            {
                "status": "ok" if ready else "unavailable",
                "checks": {"redis": redis, "restateAdmin": admin},
                "environments": by_env,
            },
            status_code=200 if ready else 503,
        )

    return readyz


async def _check(call: Callable[[], Awaitable[object]]) -> str:
    # A factory, not a coroutine: a request cancelled before this task starts leaves nothing
    # un-awaited behind.
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await call()
    except Exception as exc:  # any failure means "not ready"; the reason is reported, redacted
        return redact_text(f"{type(exc).__name__}: {exc}")[:300]
    return "ok"
