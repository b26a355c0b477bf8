"""Clicks on triage buttons: preview an action, run it (or approve and run it), stop it.

* A readout's action button (value: the filter) previews that action now and posts the preview,
  with the exact ids it stored, in the readout's thread.
* "Run" (value: the stored action id) runs it; under the two-person rule the button is
  "Approve and run", and the requester's own click is refused (``SELF_APPROVAL_REFUSED``).
* While it runs, the preview message shows progress, edited at most once a second, and a Stop
  button; at the end it shows the totals, and the per-item report goes to the thread.
* "Cancel"/"Stop" withdraws an action that has not started, or stops a running one.

Every button carries the environment of the message it is on (``env_value``): the click acts on
that environment's triage, whose store alone holds the action (an id presented with another
environment's name finds nothing), and the clicker is authorized against that environment's
allowlist.

Each listener acks, then hands its work to ``handlers.background`` (``after_ack``): every
refusal is answered privately with its code and request id (``handlers.errors``).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from core.environments import Environment
from core.errors import InvalidInput
from core.operations import Attempt
from core.triage.models import ItemOutcome
from handlers.blocks.environment import EnvTag
from handlers.blocks.format import Rendered, sections
from handlers.blocks.triage import (
    PREVIEW_ACTION_PREFIX,
    final_line,
    preview_message,
    progress_message,
    report_messages,
    running_line,
)
from handlers.deps import Listener, SlackDeps
from handlers.errors import acked_click, naming_environment
from handlers.ids import split_env_value
from handlers.messages import block_dicts, reply_ephemeral

#: Slack allows about one message update per second.
PROGRESS_INTERVAL_S = 1.0


@dataclass(frozen=True)
class _Click:
    user_id: str
    user_name: str | None
    channel: str
    ts: str
    #: The thread the clicked message belongs to (its own ts when it starts one).
    thread_ts: str
    blocks: list[dict[str, Any]]

    @classmethod
    def of(cls, body: dict[str, Any]) -> _Click:
        user = body.get("user") or {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        ts = str(container.get("message_ts") or message.get("ts"))
        return cls(
            user_id=str(user.get("id")),
            user_name=user.get("username") or user.get("name"),
            channel=str((body.get("channel") or {}).get("id") or container.get("channel_id")),
            ts=ts,
            thread_ts=str(message.get("thread_ts") or container.get("thread_ts") or ts),
            blocks=block_dicts(message.get("blocks")),
        )

    async def target(
        self, deps: SlackDeps, action: dict[str, Any]
    ) -> tuple[Environment, str, Attempt]:
        """The button's environment and payload, and the clicker's attempt there: the role
        comes from that environment's allowlist."""
        name, payload = split_env_value(str(action.get("value") or ""))
        env = deps.env(name)
        actor = await deps.actor(self.user_id, self.user_name, env)
        bulk = payload if payload.startswith("bulk_") else None
        return env, payload, Attempt(actor=actor, context=self.context(bulk))

    def context(self, action_id: str | None = None) -> dict[str, str]:
        context = {"channel": self.channel, "message_ts": self.ts}
        if self.thread_ts != self.ts:  # a preview in a readout's (or an alert's) thread
            context["thread_ts"] = self.thread_ts
        if action_id:
            context["bulk_action"] = action_id
        return context


def preview_clicked(deps: SlackDeps) -> Listener:
    return acked_click(
        deps.background,
        "triage-preview",
        lambda body, action, client, _respond: _preview(deps, body, action, client),
    )


def run_clicked(deps: SlackDeps, *, approve: bool) -> Listener:
    return acked_click(
        deps.background,
        "triage-run",
        lambda body, action, client, _respond: _run(deps, body, action, client, approve=approve),
    )


def stop_clicked(deps: SlackDeps) -> Listener:
    return acked_click(
        deps.background,
        "triage-stop",
        lambda body, action, client, respond: _stop(deps, body, action, client, respond),
    )


async def _preview(
    deps: SlackDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
) -> None:
    click = _Click.of(body)
    env, value, attempt = await click.target(deps, action)
    choice = str(action["action_id"]).removeprefix(PREVIEW_ACTION_PREFIX)
    name, _, deployment = choice.partition(":")
    try:
        flt = json.loads(value or "{}")
    except ValueError as exc:
        raise InvalidInput("filter", "the button's filter is not readable") from exc
    args: dict[str, Any] = {"action": name, "filter": flt}
    if deployment and deployment != "-":
        args["deployment"] = deployment
    async with naming_environment(deps.tag(env)):
        shown = await env.require_triage().preview(attempt, args)
    message = preview_message(shown, attempt.actor.id, env=deps.tag(env))
    await client.chat_postMessage(
        channel=click.channel,
        thread_ts=click.thread_ts,
        blocks=message.blocks,
        text=message.text,
        unfurl_links=False,
    )


async def _run(
    deps: SlackDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    *,
    approve: bool,
) -> None:
    click = _Click.of(body)
    env, action_id, attempt = await click.target(deps, action)
    run = _Run(env, deps.tag(env), str(action.get("value") or ""))
    async with naming_environment(run.tag):
        if approve:
            await env.require_triage().approve(attempt, action_id)
        await _execute(run, attempt, action_id, click, client)


async def _stop(
    deps: SlackDeps,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    click = _Click.of(body)
    env, action_id, attempt = await click.target(deps, action)
    async with naming_environment(deps.tag(env)):
        result = await env.require_triage().cancel(attempt, action_id)
    if result == "cancelled":
        line = f"{deps.tag(env).prefix}🚫 Cancelled by <@{attempt.actor.id}>; nothing was changed."
        blocks = progress_message(click.blocks, line, None)
        await client.chat_update(channel=click.channel, ts=click.ts, blocks=blocks, text=line)
        return
    text = (
        "Stopping: the invocations in flight finish, the rest are skipped and reported."
        if result == "stopping"
        else "This action has already finished."
    )
    await reply_ephemeral(respond, Rendered(sections("Triage", [text]), text))


@dataclass(frozen=True)
class _Run:
    """Where a run happens: its environment, and the clicked value (the Stop button's too)."""

    env: Environment
    tag: EnvTag
    value: str


async def _execute(
    run: _Run, attempt: Attempt, action_id: str, click: _Click, client: AsyncWebClient
) -> None:
    """Run the action, editing the preview message with progress at most once per second."""
    triage = run.env.require_triage()
    counts = {"done": 0, "skipped": 0, "failed": 0}
    total = (await triage.report(attempt, action_id)).total
    last = [0.0]
    updating: list[asyncio.Task[Any]] = []

    async def show(line: str, running: bool) -> None:
        line = run.tag.prefix + line
        blocks = progress_message(click.blocks, line, run.value if running else None)
        await client.chat_update(channel=click.channel, ts=click.ts, blocks=blocks, text=line)

    async def on_item(outcome: ItemOutcome) -> None:
        counts[outcome.outcome] += 1
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_S or any(not t.done() for t in updating):
            return
        last[0] = now
        line = running_line(
            counts["done"], counts["skipped"], counts["failed"], total, attempt.actor.id
        )
        updating.append(asyncio.create_task(show(line, running=True)))

    def started() -> None:  # claimed: show the Stop button before the first item is done
        last[0] = time.monotonic()
        line = running_line(0, 0, 0, total, attempt.actor.id)
        updating.append(asyncio.create_task(show(line, running=True)))

    try:
        report = await triage.execute(attempt, action_id, on_item, on_start=started)
    finally:
        await asyncio.gather(*updating, return_exceptions=True)
    await show(final_line(report), running=False)
    title = f"{run.tag.prefix}Report {report.action_id}"
    for text in report_messages(report, run.tag):
        await client.chat_postMessage(
            channel=click.channel,
            thread_ts=click.thread_ts,
            blocks=[b.to_dict() for b in sections(title, [text])],
            text=text,
            unfurl_links=False,
        )
