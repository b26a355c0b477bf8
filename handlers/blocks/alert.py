"""Watch messages: an alert (edited in place), its thread notes, the resolved state, and the
``/restate watch`` status. Pure renderers: view data in, blocks out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from core.watch.alerts import AlertView, ResolvedView
from core.watch.control import WatchStatus
from handlers.blocks.alert_fixes import fix_blocks
from handlers.blocks.doctor import context
from handlers.blocks.environment import NO_TAG, EnvTag
from handlers.blocks.format import Rendered, clip, code, esc, fallback, mention, sections
from handlers.blocks.offers import Offer, offer_blocks, plain_advice_lines
from handlers.ids import HEADER_BLOCK

ALERT_BLOCK = "restate.alert"


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, 150)), block_id=HEADER_BLOCK)


def _env_word(tag: EnvTag) -> str:
    """`` env=staging`` after a command, when messages name the environment."""
    return f" env={tag.name}" if tag.badge else ""


def alert_message(
    alert: AlertView,
    offers: Sequence[Offer],
    *,
    offers_error: str | None = None,
    tag: EnvTag = NO_TAG,
) -> Rendered:
    """The alert: what holds, since when, the doctor's advice for it as buttons, and its triage
    fixes (``core.watch.fixes``) as preview buttons."""
    headline = f"🚨 {tag.prefix}{alert.title}: {alert.target}"
    # Doctor's "nothing to do" would be wrong beside a fix.
    advised = bool(alert.advice) or not alert.fixes
    blocks: list[Block] = [
        _header(headline),
        *sections(esc(clip(alert.summary, 500)), [esc(alert.hint)], ALERT_BLOCK),
        context(
            f"Rule {code(alert.rule)} · open since {_clock(alert.opened_at)} · "
            f"checked {_clock(alert.checked_at)} · mute with "
            f"`/restate snooze {alert.rule} 1h{_env_word(tag)}`"
        ),
        DividerBlock(),
        *(offer_blocks(alert.advice, offers, threaded=True, env=tag) if advised else []),
        *fix_blocks(alert.fixes, tag),
    ]
    if offers_error:
        blocks.append(context(f"⚠️ Buttons are unavailable ({esc(clip(offers_error, 200))})."))
    text = fallback(
        [
            headline,
            alert.summary,
            *(plain_advice_lines(alert.advice) if advised else []),
            *(fix.label for fix in alert.fixes),
        ]
    )
    return Rendered(blocks, text)


def change_note(alert: AlertView) -> Rendered:
    """The thread reply when an open alert's count changes."""
    was = f" (was {alert.previous_count})" if alert.previous_count is not None else ""
    line = f"📈 {alert.summary}{was} · {_clock(alert.checked_at)}"
    if alert.previous_count is not None and alert.count < alert.previous_count:
        line = "📉" + line.removeprefix("📈")
    return Rendered(sections(esc(clip(line, 500)), []), line)


def resolved_phrase(resolved: ResolvedView) -> str:
    """``resolved after 14 min; last action: recover, by <@U…>``."""
    phrase = f"resolved after {resolved.minutes_open} min"
    action = resolved.last_action
    if action is not None:
        who = mention(action.actor_id) if action.surface == "slack" else esc(action.actor_id)
        via = "" if action.surface == "slack" else f" ({action.surface})"
        outcome = "" if action.outcome == "succeeded" else f", {action.outcome}"
        phrase += f"; last action: {action.name}, by {who}{via}{outcome}"
    return phrase


def resolved_message(resolved: ResolvedView, tag: EnvTag = NO_TAG) -> Rendered:
    """The alert message once it cleared: no buttons left to press."""
    headline = f"✅ {tag.prefix}Resolved: {resolved.title}: {resolved.target}"
    blocks: list[Block] = [
        _header(headline),
        *sections(esc(clip(resolved.summary, 500)), [], ALERT_BLOCK),
        context(f"Rule {code(resolved.rule)} · {resolved_phrase(resolved)}"),
    ]
    return Rendered(blocks, fallback([headline, resolved_phrase(resolved)]))


def resolved_note(resolved: ResolvedView) -> Rendered:
    line = f"✅ {resolved_phrase(resolved)}."
    return Rendered(sections(line, []), line)


def watch_status_message(status: WatchStatus, tag: EnvTag = NO_TAG) -> Rendered:
    """What is watched, in which channels, what is open now and what is snoozed here."""
    here = (
        f"👀 {tag.prefix}This channel is now watched."
        if status.newly_subscribed
        else f"👀 {tag.prefix}This channel is watched."
    )
    leader = status.leader.partition("|")[0] if status.leader else None
    every = f"every {status.interval_s:g}s" + (f" on {code(leader)}" if leader else "")
    last = (
        f"last check {_clock(status.last_check)} ({status.checks} so far)"
        if status.last_check
        else "no check has run yet"
    )
    rules = [f"• `{rule}`: {esc(text)}" for rule, text in status.rules.items()]
    open_alerts = [a for a in status.alerts if a.status == "open"]
    alerts = [f"• `{a.rule}` {esc(clip(a.summary, 200))}" for a in open_alerts] or [
        "Nothing is open."
    ]
    snoozes = [f"• `{rule}` until {_clock(until)}" for rule, until in status.snoozes.items()]
    channels = ", ".join(f"<#{c}>" for c in status.channels) or "none"
    blocks: list[Block] = [
        *sections(here, [f"Doctor runs {every}; {last}. Channels: {channels}."]),
        *sections("Rules", rules),
        *sections("Open alerts", alerts),
    ]
    if snoozes:
        blocks += sections("Snoozed here", snoozes)
    blocks.append(
        context(
            "Alerts are posted with the bot's own token: invite it to this channel "
            f"(`/invite @restate-ops`) · `/restate unwatch{_env_word(tag)}` stops · "
            f"`/restate snooze <rule|all> <duration>{_env_word(tag)}` mutes"
        )
    )
    text = fallback([here, f"{len(open_alerts)} open alert(s)", last])
    return Rendered(blocks, text)


def unwatched_message(was_watched: bool, tag: EnvTag = NO_TAG) -> Rendered:
    line = (
        f"🙈 {tag.prefix}This channel is no longer watched; its alert messages stay as they are."
        if was_watched
        else f"{tag.prefix}This channel was not watched."
    )
    return Rendered(sections(line, []), line)


def snoozed_message(rule: str, until: datetime, tag: EnvTag = NO_TAG) -> Rendered:
    what = "every rule" if rule == "all" else f"`{rule}`"
    line = f"🔕 {tag.prefix}Alerts for {what} are muted in this channel until {_clock(until)}."
    return Rendered(sections(line, []), line)
