"""Sample Restate workflows for the local stack: each input `mode` produces one kind of trouble.

`python -m bot.devstack.workflows --port N` serves them on 127.0.0.1:N with hypercorn.

- `IdentityRecoveryWorkflow` and `InvitationWorkflow` (same logic, two services), main
  handler `run`, input `{"mode": ...}`:
  - `succeed`: returns `{"priorStep": <state "step" before this run, or null>}` and sets it
    to `done`, so a test can prove that a re-run started from blank state;
  - `fail`: raises a TerminalError, so the run ends completed/failure;
  - `hang`: awaits the durable promise `approval` (resolved by the shared handler `approve`),
    so the run is suspended;
  - `flaky`: raises a retryable error on every attempt with a long retry interval, so the run
    sits in `backing-off`.
- `PausingWorkflow`: always flaky, but gives up after 2 quick attempts and pauses (Restate 1.5+).
- `FixableWorkflow`: fails transiently, pausing after 2 quick attempts, until the file named by
  its input `{"fixedWhen": <path>}` exists; then it succeeds. Creating the file is "deploying
  the fix", so a test can pause many runs, fix them all at once and resume them.
- `EchoService` (a plain service, not a workflow), handler `echo`: returns its input. Its journal
  is kept for an hour, so a completed invocation can be restarted as new (Restate 1.5+).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import restate
from restate import (
    Context,
    InvocationRetryPolicy,
    Service,
    TerminalError,
    Workflow,
    WorkflowContext,
    WorkflowSharedContext,
)

STATE_STEP = "step"
APPROVAL_PROMISE = "approval"
TERMINAL_FAILURE_MESSAGE = "upstream provider returned a terminal failure"
MODES = ("succeed", "fail", "hang", "flaky")


class TransientUpstreamError(Exception):
    """A plain (non-terminal) error: Restate retries the attempt according to the retry policy."""


async def run(ctx: WorkflowContext, request: dict[str, Any]) -> Any:
    """Main handler: behave according to `request["mode"]` (see the module docstring)."""
    mode = request.get("mode", "succeed")
    if mode == "succeed":
        prior = await ctx.get(STATE_STEP, type_hint=str)
        ctx.set(STATE_STEP, "done")
        return {"priorStep": prior}
    if mode == "fail":
        ctx.set(STATE_STEP, "started")
        raise TerminalError(TERMINAL_FAILURE_MESSAGE)
    if mode == "hang":
        ctx.set(STATE_STEP, "waiting")
        return await ctx.promise(APPROVAL_PROMISE).value()
    if mode == "flaky":
        ctx.set(STATE_STEP, "retrying")
        raise TransientUpstreamError("upstream provider timed out (flaky mode)")
    # A bad request will never get better: fail terminally instead of retrying forever.
    raise TerminalError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", 400)


async def approve(ctx: WorkflowSharedContext, value: Any) -> None:
    """Shared handler: resolve the `approval` promise a `hang` run is waiting for."""
    await ctx.promise(APPROVAL_PROMISE).resolve(value)


async def run_pausing(ctx: WorkflowContext, request: dict[str, Any] | None) -> None:
    """Main handler of PausingWorkflow: fail transiently on every attempt until it is paused."""
    ctx.set(STATE_STEP, "retrying")
    raise TransientUpstreamError("upstream provider timed out (pausing workflow)")


async def run_fixable(ctx: WorkflowContext, request: dict[str, Any]) -> str:
    """Main handler of FixableWorkflow: fail transiently until ``request["fixedWhen"]`` exists."""
    fixed_when = str(request.get("fixedWhen", ""))
    if not fixed_when or not await asyncio.to_thread(Path(fixed_when).exists):
        raise TransientUpstreamError("upstream provider is down (fixable workflow)")
    return "fixed"


# A long first interval keeps a `flaky` run in `backing-off` for tens of seconds, long enough
# for tests and for the demo's doctor to see it; it is far below Restate's default of 70 attempts
# before pausing, so the run stays "backing-off" for a long time.
FLAKY_RETRY_POLICY = InvocationRetryPolicy(
    initial_interval=timedelta(seconds=30),
    exponentiation_factor=2.0,
    max_interval=timedelta(minutes=5),
)

# Two quick attempts and then pause, so a test reaches `paused` in well under a second.
PAUSING_RETRY_POLICY = InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    exponentiation_factor=1.0,
    max_interval=timedelta(milliseconds=100),
    max_attempts=2,
    on_max_attempts="pause",
)


# Over HTTP/2 the SDK keeps the stream open while it awaits a promise; Restate only asks it to
# suspend after the inactivity timeout (1 minute by default). One second makes a `hang` run
# show up as `suspended` quickly, which is what a workflow waiting for a human looks like.
HANG_INACTIVITY_TIMEOUT = timedelta(seconds=1)


def _mode_workflow(name: str) -> Workflow:
    workflow = Workflow(
        name,
        invocation_retry_policy=FLAKY_RETRY_POLICY,
        inactivity_timeout=HANG_INACTIVITY_TIMEOUT,
    )
    workflow.main(name="run")(run)
    workflow.handler(name="approve")(approve)
    return workflow


identity_recovery_workflow = _mode_workflow("IdentityRecoveryWorkflow")
invitation_workflow = _mode_workflow("InvitationWorkflow")
pausing_workflow = Workflow("PausingWorkflow", invocation_retry_policy=PAUSING_RETRY_POLICY)
pausing_workflow.main(name="run")(run_pausing)
pausing_workflow.handler(name="approve")(approve)

fixable_workflow = Workflow("FixableWorkflow", invocation_retry_policy=PAUSING_RETRY_POLICY)
fixable_workflow.main(name="run")(run_fixable)


async def echo(ctx: Context, value: Any) -> Any:
    """Handler of EchoService: returns its input."""
    return value


echo_service = Service("EchoService", journal_retention=timedelta(hours=1))
echo_service.handler(name="echo")(echo)

SERVICES: tuple[Workflow | Service, ...] = (
    identity_recovery_workflow,
    invitation_workflow,
    pausing_workflow,
    fixable_workflow,
    echo_service,
)
SERVICE_NAMES: tuple[str, ...] = tuple(str(w.name) for w in SERVICES)


def build_app() -> Any:
    """The ASGI app serving every sample workflow (bidi protocol: Restate talks HTTP/2 to it)."""
    return restate.app(services=SERVICES, protocol="bidi")


async def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve the sample workflows with hypercorn until SIGTERM or SIGINT."""
    # Imported here so that importing the workflow definitions does not need hypercorn.
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config
    from restate.server import install_shutdown_hook

    config = Config()
    # Plain TCP: hypercorn answers HTTP/2 with prior knowledge (h2c), which Restate uses for
    # bidirectional streaming; HTTP/1.1 health probes still work on the same port.
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = 1.0
    config.accesslog = None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # The SDK installs its own SIGTERM handler on the first request, and loop.add_signal_handler
    # keeps one handler per signal; registering through the SDK's hook list keeps both.
    install_shutdown_hook(loop, stop.set, signal.SIGTERM)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await hypercorn_serve(build_app(), config, shutdown_trigger=stop.wait)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the restate-ops sample workflows.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.host))


if __name__ == "__main__":
    main()
