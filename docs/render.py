"""The README's Slack images: the bot's real renderers, drawn as Slack would, screenshotted.

    .venv/bin/python -m docs.render    # writes docs/slack-doctor.png and docs/slack-recovery.png

The readouts are the demo's trouble (two terminal-failed workflow keys, one run backing off, a
drained deployment left behind), built in memory so the images are the same on every machine.
Block Kit is turned into a small HTML page (a close-enough Slack look: header, sections with
their button, context, dividers) and screenshotted with headless Chromium
(``apt-get install -y chromium``; ``CHROMIUM`` names another binary).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.advice import advise
from core.models import (
    AdminReadout,
    DeploymentItem,
    DeploymentsReadout,
    DoctorReport,
    FailureItem,
    IngressReadout,
    InvocationsReadout,
    RecoverResponse,
    ServiceItem,
    ServicesReadout,
    StuckItem,
)
from core.operations import DoctorResult, WriteResult
from core.report_diff import describe_changes
from handlers.blocks.doctor import details_message, doctor_message
from handlers.blocks.format import Rendered
from handlers.blocks.links import Links, ui_url_for
from handlers.blocks.offers import Offer
from handlers.blocks.outcome import outcome_summary, success_message
from handlers.blocks.progress import after_action_message, status_line
from handlers.blocks.verify import verify_message

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 5, 9, 10, 10, tzinfo=UTC)
LIVE = "http://ddwf:9080"
WORKFLOW = "IdentityRecoveryWorkflow"
OPERATOR = "U0OLIVIA"
NAMES = {OPERATOR: "olivia"}
LINKS = Links(
    ui_url=ui_url_for("http://restate.internal:9070"),
    runbook_url="https://wiki.example.com/runbooks/restate",
    admin_url="http://restate.internal:9070",
)


def _readout(*, recovered: bool = False) -> DoctorReport:
    failures = [
        FailureItem(
            id="inv_1fA0dW8vVx2kPq7RtYb3mN4cZ5",
            service_name=WORKFLOW,
            service_key="0x9f2c1e7a44b0d3c8e6f1",
            handler="run",
            failed_at=NOW - timedelta(minutes=6),
            error_message="TerminalError: identity provider rejected the claim (409)",
        ),
        FailureItem(
            id="inv_1gB7hK2mNp9qRs4TuVw6Xy8Za1",
            service_name=WORKFLOW,
            service_key="0x41d8aa03c7e25b9f10ce",
            handler="run",
            failed_at=NOW - timedelta(minutes=19),
            error_message="TerminalError: wallet 0x41d8… already registered",
        ),
    ]
    if recovered:
        failures = failures[1:]
    return DoctorReport(
        ingress=IngressReadout(status="ok", latency_ms=4),
        admin=AdminReadout(status="ok", latency_ms=3, version="1.7.12"),
        deployments=DeploymentsReadout(
            status="ok",
            items=[
                DeploymentItem(
                    id="dp_14LsPzGz9HBxXIeBoH5wYUh",
                    service_url=LIVE,
                    created_at=NOW - timedelta(hours=2),
                    drain_state="active",
                    pinned_invocations=3,
                    latest_for=[WORKFLOW, "InvitationWorkflow"],
                ),
                DeploymentItem(
                    id="dp_12j92hZL651s1MVL2nTvuwN",
                    service_url="http://ddwf-old:9080",
                    created_at=NOW - timedelta(days=3),
                    drain_state="drained",
                    pinned_invocations=0,
                ),
            ],
        ),
        services=ServicesReadout(
            status="ok",
            items=[
                ServiceItem(
                    name=WORKFLOW,
                    revision=4,
                    type="Workflow",
                    deployment_id="dp_14LsPzGz9HBxXIeBoH5wYUh",
                ),
                ServiceItem(
                    name="InvitationWorkflow",
                    revision=2,
                    type="Workflow",
                    deployment_id="dp_14LsPzGz9HBxXIeBoH5wYUh",
                ),
            ],
        ),
        invocations=InvocationsReadout(
            status="ok",
            by_status={"completed": 118, "running": 3, "backing-off": 1, "suspended": 2},
            recent_failures=failures,
            stuck=[
                StuckItem(
                    id="inv_1cQ3wE5rT7yU9iO1pA3sD5fG7h",
                    service_name="InvitationWorkflow",
                    service_key="inv-7731",
                    handler="run",
                    status="backing-off",
                    retry_count=38,
                    error_code="500",
                    error_message="ConnectError: mailer.internal:25 refused",
                    modified_at=NOW - timedelta(minutes=12),
                )
            ],
        ),
        checked_at=NOW,
    )


def _offers(result: DoctorResult) -> list[Offer]:
    return [Offer(a, f"pa_{n:04d}") for n, a in enumerate(result.advice) if a.route]


# --- Block Kit → HTML ---------------------------------------------------------------------------

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def _mrkdwn(text: str) -> str:
    """Slack's mrkdwn as HTML (the subset the renderers use). The text is already escaped for
    Slack (``&amp;``, ``&lt;``), which HTML reads the same way."""
    text = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(2)}</a>', text)
    text = _MENTION.sub(
        lambda m: f'<span class="mention">@{NAMES.get(m.group(1), m.group(1))}</span>', text
    )
    text = re.sub(r"```(.*?)```", lambda m: f"<pre>{m.group(1)}</pre>", text, flags=re.S)
    text = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", text)
    text = _BOLD.sub(lambda m: f"<b>{m.group(1)}</b>", text)
    return text.replace("\n", "<br>")


def _text(obj: dict[str, Any]) -> str:
    raw = str(obj.get("text", ""))
    return _mrkdwn(raw) if obj.get("type") == "mrkdwn" else html.escape(raw)


def _button(element: dict[str, Any]) -> str:
    style = element.get("style", "")
    return f'<span class="button {style}">{html.escape(element["text"]["text"])}</span>'


def _block(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "header":
        return f'<div class="header">{html.escape(block["text"]["text"])}</div>'
    if kind == "divider":
        return "<hr>"
    if kind == "context":
        return '<div class="context">' + " ".join(_text(e) for e in block["elements"]) + "</div>"
    if kind == "actions":
        return '<div class="actions">' + "".join(_button(e) for e in block["elements"]) + "</div>"
    accessory = block.get("accessory")
    button = _button(accessory) if isinstance(accessory, dict) else ""
    return f'<div class="section"><div class="text">{_text(block["text"])}</div>{button}</div>'


def _message(rendered: Rendered, *, when: str, indent: bool = False) -> str:
    body = "".join(_block(b) for b in rendered.block_dicts())
    klass = "message reply" if indent else "message"
    return (
        f'<div class="{klass}"><div class="avatar">R</div><div class="body">'
        f'<div class="who"><b>restate-ops</b> <span class="app">APP</span> '
        f'<span class="time">{when}</span></div>{body}</div></div>'
    )


_CSS = """
body { font: 15px/1.46 -apple-system, 'Segoe UI', 'Noto Sans', sans-serif; color: #1d1c1d;
       margin: 0; background: #fff; width: 900px; }
.channel { padding: 10px 20px; border-bottom: 1px solid #ddd; font-weight: 700; }
.label { padding: 8px 20px 0; color: #616061; font-size: 13px; }
.message { display: flex; padding: 8px 20px; }
.reply { margin-left: 36px; border-left: 3px solid #e8e8e8; }
.avatar { width: 36px; height: 36px; border-radius: 4px; background: #1d2b3a; color: #fff;
          font-weight: 700; display: flex; align-items: center; justify-content: center;
          margin-right: 8px; flex: none; }
.body { flex: 1; min-width: 0; }
.app { background: #e8e8e8; font-size: 10px; padding: 1px 3px; border-radius: 2px; }
.time { color: #616061; font-size: 12px; }
.header { font-size: 18px; font-weight: 900; margin: 4px 0; }
.section { display: flex; justify-content: space-between; gap: 12px; margin: 6px 0; }
.section .text { flex: 1; }
.context { color: #616061; font-size: 13px; margin: 4px 0; }
hr { border: none; border-top: 1px solid #e8e8e8; margin: 8px 0; }
code { font: 12px Menlo, monospace; background: #f6f6f6; border: 1px solid #e2e2e2;
       border-radius: 3px; padding: 0 3px; color: #c01343; }
pre { font: 12px Menlo, monospace; background: #f6f6f6; border: 1px solid #e2e2e2;
      padding: 6px; white-space: pre-wrap; }
a { color: #1264a3; text-decoration: none; }
a code { color: #1264a3; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.button { border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; font-weight: 700;
          font-size: 14px; white-space: nowrap; align-self: flex-start; background: #fff; }
.button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.button.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
.actions { display: flex; gap: 8px; margin: 6px 0; }
"""


def _page(parts: Sequence[str]) -> str:
    return f"<!doctype html><meta charset=utf-8><style>{_CSS}</style>{''.join(parts)}"


def _screenshot(chromium: str, page: str, target: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, encoding="utf-8")
        subprocess.run(  # noqa: S603 - our own page, a Chromium the caller chose
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={tmp}/profile",
                f"--window-size=900,{height}",
                f"--screenshot={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def pages() -> dict[str, tuple[str, int]]:
    """The two pages: a doctor readout with trouble, and the thread after a recovery."""
    before = _readout()
    first = DoctorResult(before, advise(before, live_service_url=LIVE), "req_01hx7d2k9")
    doctor = doctor_message(
        first, _offers(first), requested_by=OPERATOR, threaded=True, links=LINKS
    )
    details = details_message(first, LINKS)
    readout = _page(
        [
            '<div class="channel"># inc-2217-identity-onboarding</div>',
            _message(doctor, when="10:10"),
            '<div class="label">Thread</div>',
            _message(details, when="10:10", indent=True),
        ]
    )
    after = _readout(recovered=True)
    fresh = DoctorResult(after, advise(after, live_service_url=LIVE), "req_01hx7d9q3")
    recover = next(a for a in first.advice if a.route == "recover-stuck-workflow")
    title = recover.title
    written = WriteResult(
        "recover-stuck-workflow",
        "req_01hx7d8m1",
        RecoverResponse(
            killed=["inv_1fA0dW8vVx2kPq7RtYb3mN4cZ5"],
            purged=["inv_1fA0dW8vVx2kPq7RtYb3mN4cZ5"],
            state_cleared=True,
        ),
    )
    status = status_line(title, OPERATOR, ok=True, result=outcome_summary(written), threaded=True)
    rebuilt = after_action_message(fresh, _offers(fresh), status=status, threaded=True, links=LINKS)
    outcome = success_message(title, written, recover.args, OPERATOR)
    verify = verify_message(fresh, describe_changes(before, after), action=title)
    recovery = _page(
        [
            '<div class="channel"># inc-2217-identity-onboarding</div>',
            _message(rebuilt, when="10:10 (edited)"),
            '<div class="label">Thread</div>',
            _message(outcome, when="10:12", indent=True),
            _message(verify, when="10:12", indent=True),
        ]
    )
    return {"slack-doctor.png": (readout, 1500), "slack-recovery.png": (recovery, 1150)}


def main() -> int:
    chromium = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if chromium is None:
        print("chromium not found: apt-get install -y chromium (or set CHROMIUM)", file=sys.stderr)
        return 2
    for name, (page, height) in pages().items():
        target = HERE / name
        _screenshot(chromium, page, target, height)
        print(f"wrote {target.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
