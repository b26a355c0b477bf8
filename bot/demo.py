"""`restate-ops demo`: a real local Restate with realistic trouble in it, and the bot serving it.

What it starts (all on loopback, all stopped by Ctrl-C or SIGTERM):

* ``redis-server`` for the audit trail; ``restate-server`` (the pinned binary);
* two copies of the sample workflow service: the *stale* one, registered first as
  ``http://127.0.0.1:<port>/``, and the *live* one, registered after it as ``http://ddwf:9080``,
  the operator guide's own URL, so that every curl example of the guide works verbatim. Restate
  reaches ``ddwf`` through ``HTTP_PROXY``, which points at the live service; loopback is
  ``NO_PROXY``. (So in the demo *any* non-loopback host name reaches the live service: a typo in
  a force-redeploy URL registers it too. Real deployments have real DNS.);
* ``restate-ops serve`` in this process, with the operator guide's example API keys as operator
  keys; each request it serves is printed as one line under the guide.

The planted trouble: two terminal-failed workflow keys (the operator guide's examples), one key
stuck retrying in ``backing-off``, and the stale deployment, now drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.cli.exits import ExitCode
from bot.devstack import (
    BinaryNotFoundError,
    ManagedProcess,
    RedisServer,
    RestateServer,
    StartupError,
    StatusTimeoutError,
    WorkflowIngress,
    WorkflowService,
    wait_for_status,
)
from bot.logs import configure_logging
from bot.serve import bind, serve
from bot.settings import Settings, load_settings
from core.restate.client import RestateAdminClient
from core.tasks import cancel_and_wait

#: The operator guide's service URL, made real: Restate resolves it through the proxy below.
LIVE_SERVICE_URL = "http://ddwf:9080"
#: The operator guide's example keys, so that their `export DALP_API_KEY=...` lines work as written.
DEMO_API_KEYS = {
    "demo-operator": "sm_dalp_operator_1234567890",
    "docs-operator": "sm_dalp_xxxxxxxxxxxxxxxx",
}
#: (service, key): terminal-failed runs, the operator guide's examples.
FAILED_KEYS = (
    ("InvitationWorkflow", "invitation_01j8m7k2q3r4s5t6u7v8w9x0y1_1770000000000"),
    ("IdentityRecoveryWorkflow", "invitation_01j8m7k2q3r4s5t6u7v8w9x0y1"),
)
#: A run that keeps failing transiently: recovery refuses it (active-invocation) until killed.
RETRYING_KEY = ("IdentityRecoveryWorkflow", "identity_01j8m7q2r3s4t5u6v7w8x9y0z1")
READY_LINE = "restate-ops demo ready:"
DEFAULT_PORT = 3000


class AliasingRestateServer(RestateServer):
    """A Restate server that reaches every non-loopback deployment URL through one proxy port.

    Restate sends proxied requests to the proxy with the deployment URL's authority and path
    intact, and the SDK serves any mount path, so pointing the proxy at the live workflow
    service makes ``http://ddwf:9080`` (and ``/v1`` under it) that service.
    """

    def __init__(self, proxy_port: int) -> None:
        super().__init__()
        self.proxy_port = proxy_port

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env["HTTP_PROXY"] = f"http://127.0.0.1:{self.proxy_port}"
        env["NO_PROXY"] = "127.0.0.1,localhost,::1"
        return env


@dataclass(frozen=True)
class DemoStack:
    restate: RestateServer
    redis: RedisServer
    live: WorkflowService
    stale: WorkflowService

    @property
    def stale_url(self) -> str:
        return self.stale.url

    def settings(self, port: int | None = None, **extra: object) -> Settings:
        """Settings for `serve` against this stack; Slack (and ``extra``) from the environment."""
        overrides: dict[str, object] = {
            "restate_admin_url": self.restate.admin_url,
            "restate_ingress_url": self.restate.ingress_url,
            "restate_service_url": LIVE_SERVICE_URL,
            "redis_url": self.redis.url,
            "operator_api_keys": ",".join(f"{n}={k}" for n, k in DEMO_API_KEYS.items()),
            "readonly_api_keys": "",
            "host": "127.0.0.1",
        }
        if port is not None:
            overrides["port"] = port
        return load_settings(**{**overrides, **extra})

    def cli_environment(self) -> dict[str, str]:
        """The variables that point `restate-ops` commands at this stack."""
        return {
            "RESTATE_ADMIN_URL": self.restate.admin_url,
            "RESTATE_INGRESS_URL": self.restate.ingress_url,
            "RESTATE_SERVICE_URL": LIVE_SERVICE_URL,
            "REDIS_URL": self.redis.url,
        }


@contextlib.asynccontextmanager
async def demo_stack(progress: Callable[[str], None] = lambda _: None) -> AsyncIterator[DemoStack]:
    """Start everything, plant the trouble, yield; stop every process on the way out."""
    async with contextlib.AsyncExitStack() as stack:
        live, stale, redis = WorkflowService(), WorkflowService(), RedisServer()
        restate = AliasingRestateServer(proxy_port=live.port)
        processes = (redis, restate, live, stale)
        for process in processes:
            stack.push_async_callback(process.aclose)
        progress("starting redis-server, restate-server and two workflow services")
        await _start_all(processes)
        demo = DemoStack(restate=restate, redis=redis, live=live, stale=stale)
        progress("planting trouble: a stale deployment, failed and retrying workflow keys")
        await plant_trouble(demo)
        yield demo


async def _start_all(processes: tuple[ManagedProcess, ...]) -> None:
    """Start concurrently; when one fails, cancel the others and raise that one error."""
    tasks = [asyncio.create_task(process.start()) for process in processes]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        await cancel_and_wait(tasks)
        raise


async def plant_trouble(demo: DemoStack) -> None:
    async with (
        RestateAdminClient(demo.restate.admin_url) as admin,
        WorkflowIngress(demo.restate.ingress_url) as ingress,
    ):
        # Registered first, then superseded by the live one: the stale deployment, drained.
        await admin.register_deployment(demo.stale_url, force=True)
        await admin.register_deployment(LIVE_SERVICE_URL, force=True)
        for service, key in FAILED_KEYS:
            await ingress.submit(service, key, {"mode": "fail"})
        await ingress.submit(*RETRYING_KEY, {"mode": "flaky"})
        await asyncio.gather(
            *(wait_for_status(admin, s, k, "completed") for s, k in FAILED_KEYS),
            wait_for_status(admin, *RETRYING_KEY, "backing-off"),
        )


# --- the command ----------------------------------------------------------------------------------


def run_demo(port: int | None = None, out: TextIO | None = None) -> int:
    """`restate-ops demo`: returns the exit code once everything it started has stopped."""
    try:
        return asyncio.run(_demo(port, out or sys.stdout))
    except (BinaryNotFoundError, StartupError, StatusTimeoutError) as exc:
        sys.stderr.write(f"demo: could not start the local stack: {exc}\n")
        return ExitCode.ERROR


async def _demo(port: int | None, out: TextIO) -> int:
    if port is None:
        port = load_settings().port  # PORT from the environment, else the default
    # Listen before starting four servers: a taken port fails at once, and none of the stack's
    # servers can be given this port while they start.
    listening = bind("127.0.0.1", port)
    stop = asyncio.Event()
    main = asyncio.current_task()
    serving = False

    def on_signal() -> None:
        stop.set()
        if not serving and main is not None:
            main.cancel()  # still starting: abandon start-up; the exit stack stops what started

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    try:
        async with demo_stack(lambda step: say(f"demo: {step}")) as stack:
            settings = stack.settings(port)
            configure_logging(settings, logging.WARNING)  # the guide is the demo's output
            serving = True
            with request_lines(out):
                await serve(
                    settings,
                    stop=stop,
                    on_ready=lambda url: say(guide(stack, url)),
                    sock=listening,
                )
        say("demo: stopped; every process it started has exited")
        return ExitCode.OK
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        say("demo: interrupted during start-up; every process it started has exited")
        return ExitCode.INTERRUPTED
    finally:
        listening.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class RequestLine(logging.Formatter):
    """uvicorn's access record as ``HH:MM:SS POST /path → 200``: one line per request served."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, _version, status = args
            return f"{self.formatTime(record, '%H:%M:%S')} {method} {path} → {status}"
        return record.getMessage()


@contextlib.contextmanager
def request_lines(out: TextIO) -> Iterator[None]:
    """Show each request the demo serves on its own terminal, under the guide."""
    access = logging.getLogger("uvicorn.access")
    handler = logging.StreamHandler(out)
    handler.setFormatter(RequestLine())
    saved = (access.level, access.propagate)
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        yield
    finally:
        access.removeHandler(handler)
        access.setLevel(saved[0])
        access.propagate = saved[1]


def guide(stack: DemoStack, base_url: str) -> str:
    """What to try, printed once the HTTP routes answer; one `export` line sets up a terminal."""
    failed_service, failed_key = FAILED_KEYS[0]
    cli = _cli_path()
    return f"""
Local stack
  Restate admin     {stack.restate.admin_url}   (web UI {stack.restate.admin_url}/ui/)
  Restate ingress   {stack.restate.ingress_url}
  Redis (audit)     {stack.redis.url}
  live service      {LIVE_SERVICE_URL}   (Restate reaches it through HTTP_PROXY)
  stale deployment  {stack.stale_url}
  restate-ops       {base_url}

Planted trouble
  {FAILED_KEYS[0][0]}/{FAILED_KEYS[0][1]}   terminal-failed
  {FAILED_KEYS[1][0]}/{FAILED_KEYS[1][1]}   terminal-failed
  {RETRYING_KEY[0]}/{RETRYING_KEY[1]}   retrying (backing-off)
  {stack.stale_url}   stale deployment (drained)

In another terminal, paste this one line (the operator guide's curl variables and the CLI's):

  {export_line(stack, base_url)}

then try the operator guide's curl commands:

  curl -sS -X POST "$DALP_API_URL/api/v2/admin/operator/restate/doctor" \\
    -H "X-Api-Key: $DALP_API_KEY" \\
    -H "Content-Type: application/json" \\
    -d '{{}}'

  curl -X POST "$DALP_API_URL/api/v2/admin/operator/restate/cleanup-stale-deployments" \\
    -H "X-Api-Key: $DALP_API_KEY" \\
    -H "Content-Type: application/json" \\
    -d '{{
      "serviceUrl": "http://ddwf:9080",
      "forceDrain": false
    }}'

  curl -X POST "$DALP_API_URL/api/v2/admin/operator/restate/recover-stuck-workflow" \\
    -H "X-Api-Key: $DALP_API_KEY" \\
    -H "Content-Type: application/json" \\
    -d '{{
      "serviceName": "{failed_service}",
      "serviceKey": "{failed_key}"
    }}'

  # refused with 409 RESTATE_WORKFLOW_RETRY_BLOCKED: that run is still retrying
  curl -sS -X POST "$DALP_API_URL/api/v2/admin/operator/restate/recover-stuck-workflow" \\
    -H "X-Api-Key: $DALP_API_KEY" -H "Content-Type: application/json" \\
    -d '{{"serviceName": "{RETRYING_KEY[0]}", "serviceKey": "{RETRYING_KEY[1]}"}}'

or the terminal CLI (it asks before each write):

  {cli} doctor
  {cli} recover {FAILED_KEYS[1][0]} {FAILED_KEYS[1][1]}
  {cli} audit tail

Slack in Socket Mode (no public URL): create an app from the manifest app.yaml (api.slack.com/apps,
From an app manifest), install it, add an app-level token with connections:write, then put
SLACK_BOT_TOKEN=xoxb-..., SLACK_APP_TOKEN=xapp-... and OPERATOR_ALLOWLIST=<your U... id> in .env
and run the demo again. Invite @restate-ops to a channel and type /restate doctor.

Ctrl-C stops everything the demo started. Requests served, one line each:
{READY_LINE} {base_url}"""


def export_line(stack: DemoStack, base_url: str) -> str:
    """The single `export` line that points both curl and `restate-ops` at this demo."""
    variables = {
        "DALP_API_URL": base_url,
        "DALP_API_KEY": DEMO_API_KEYS["demo-operator"],
        **stack.cli_environment(),
    }
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())


def _cli_path() -> str:
    """`restate-ops` as this process was installed (the venv's script), else the bare name."""
    script = Path(sys.executable).parent / "restate-ops"
    return str(script) if script.exists() else "restate-ops"
