"""``/restate`` command text → a typed command. Pure; the listener acks before calling it.

Syntax checks live here (which words, how many); the values themselves (URL, identifiers) are
validated by the core, which raises ``InvalidInput`` that the error handler shows with the usage.

Environments: any command may carry one ``env=<name>`` word, anywhere (``/restate env=prod
recover Wf k1``, ``/restate cleanup env=staging``), taken out before the command is read
(:func:`split_environment`); doctor also takes the name as its argument (``/restate doctor
prod``, ``/restate doctor all``). Without one, a command acts on the environment its channel is
bound to, else the default (``core.environments.Environments.resolve``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

from core.environments import Environments
from core.models import Route
from handlers.commands.watch_parse import SnoozeCommand, WatchCommand, parse_watch

_SYNTAX: dict[str, tuple[str, str]] = {
    "doctor": ("/restate [doctor]", "health readout and recommended actions"),
    "doctor-env": ("/restate doctor <env>|all", "one environment's readout, or a line for each"),
    "redeploy": ("/restate redeploy [serviceUrl]", "register the live service URL again"),
    "cleanup": ("/restate cleanup [<serviceUrl> [force-drain]]", "delete stale deployments"),
    "recover": ("/restate recover [<serviceName> <serviceKey> [reason…]]", "clear a failed key"),
    "invocations": ("/restate invocations [filter…]", "select invocations, act on them in bulk"),
    "audit": ("/restate audit [n]", "the latest n audited attempts (operators)"),
    "watch": ("/restate watch", "alert this channel when doctor finds trouble"),
    "unwatch": ("/restate unwatch", "stop alerting this channel"),
    "snooze": ("/restate snooze <rule|all> <duration>", "mute alerts here, e.g. paused 1h"),
    "help": ("/restate help", "this text"),
}
_WIDTH = max(len(syntax) for syntax, _ in _SYNTAX.values()) + 2
_LINES: dict[str, str] = {
    name: f"{syntax.ljust(_WIDTH)}{what}" for name, (syntax, what) in _SYNTAX.items()
}
#: Each subcommand's usage (a single-environment bot's: no environment syntax).
USAGE: dict[str, str] = {name: line for name, line in _LINES.items() if name != "doctor-env"}
ALL_USAGE = "\n".join(USAGE.values())
ENV_WORD = "env="
ENV_USAGE = "\n".join(
    [
        _LINES["doctor-env"],
        f"{'env=<name>'.ljust(_WIDTH)}on any command: act on that environment",
    ]
)
FORCE_DRAIN = frozenset({"force-drain", "--force-drain"})
AUDIT_DEFAULT, AUDIT_MAX = 10, 50


class InvalidCommand(ValueError):
    """The command text is unknown or malformed; ``usage`` is the correct form."""

    def __init__(self, problem: str, usage: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.usage = usage


@dataclass(frozen=True)
class DoctorCommand:
    #: ``doctor <name>`` (or ``all``); None: the environment the request resolves to.
    environment: str | None = None


@dataclass(frozen=True)
class HelpCommand:
    pass


@dataclass(frozen=True)
class AuditCommand:
    count: int = AUDIT_DEFAULT


@dataclass(frozen=True)
class FormCommand:
    """A write without its arguments: a form offers the choices doctor sees."""

    kind: Literal["recover", "cleanup"]


@dataclass(frozen=True)
class WriteCommand:
    """A write typed as text: shown as a preview with a confirm button before it runs."""

    name: str
    route: Route
    args: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


Command = (
    DoctorCommand
    | HelpCommand
    | AuditCommand
    | FormCommand
    | WriteCommand
    | WatchCommand
    | SnoozeCommand
)


def _unwrap(token: str) -> str:
    """Slack may send a link as ``<http://x|label>`` or ``<http://x>``; keep the target."""
    token = html.unescape(token)
    if token.startswith("<") and token.endswith(">"):
        token = token[1:-1].partition("|")[0]
    return token


def usage_for(text: str) -> str:
    """The usage of the subcommand ``text`` starts with, or of every subcommand."""
    words = text.split()
    name = words[0].lower() if words else "doctor"
    return USAGE.get(name, ALL_USAGE)


def help_usage(environments: Environments) -> str:
    """Every subcommand's usage; with several environments, how to name one, and which exist."""
    if not environments.several:
        return ALL_USAGE
    names = ", ".join(environments.names)
    return "\n".join(
        [
            ALL_USAGE,
            ENV_USAGE,
            f"Environments: {names}. Without env=, the channel's environment, else "
            f"{environments.default.name}.",
        ]
    )


def split_environment(text: str) -> tuple[str | None, str]:
    """The ``env=<name>`` word of ``text`` (lowercased), and the text without it.

    Only a word of its own counts: ``env=`` inside a quoted part (``error="bad env=prod"``)
    belongs to that value and never picks an environment.
    """
    words = command_words(text)
    named = [w for w in words if is_env_word(w)]
    if not named:
        return None, text
    if len(named) > 1:
        raise InvalidCommand(f"Name one environment, not {len(named)}.", ENV_USAGE)
    name = named[0][len(ENV_WORD) :].lower()
    if not name:
        raise InvalidCommand("env= needs an environment's name (env=prod).", ENV_USAGE)
    return name, " ".join(w for w in words if not is_env_word(w))


def is_env_word(word: str) -> bool:
    return word.lower().startswith(ENV_WORD)


def command_words(text: str) -> list[str]:
    """``text`` split at white space, except inside a quoted part ("…" or '…', when closed later
    in the text): that part stays in its word, spaces and quotes included. An unclosed quote (an
    apostrophe in a reason) is an ordinary character."""
    words: list[str] = []
    word: list[str] = []
    at = 0
    while at < len(text):
        char = text[at]
        if char.isspace():
            if word:
                words.append("".join(word))
                word = []
            at += 1
            continue
        close = text.find(char, at + 1) if char in "\"'" else -1
        end = close + 1 if close != -1 else at + 1
        word.append(text[at:end])
        at = end
    if word:
        words.append("".join(word))
    return words


def parse_command(
    text: str,
    *,
    live_service_url: str | None = None,
    service_url_setting: str = "RESTATE_SERVICE_URL",
) -> Command:
    """Parse the text after ``/restate`` (without its ``env=`` word); raise ``InvalidCommand``
    saying what is wrong. ``service_url_setting`` names where ``live_service_url`` comes from."""
    words = text.split()
    if not words:
        return DoctorCommand()
    name, rest = words[0].lower(), words[1:]
    if name == "doctor":
        if len(rest) > 1:
            raise InvalidCommand(
                f"Unexpected {' '.join(rest)!r} after doctor: it takes one environment's name "
                "or all.",
                ENV_USAGE,
            )
        return DoctorCommand(rest[0].lower() if rest else None)
    if name == "help":
        return HelpCommand()
    if name == "audit":
        return AuditCommand(_count(rest))
    if name in ("watch", "unwatch", "snooze"):
        try:
            return parse_watch(name, rest)
        except ValueError as exc:
            raise InvalidCommand(str(exc), USAGE[name]) from exc
    if name == "redeploy":
        _at_most(name, rest, 1)
        url = _unwrap(rest[0]) if rest else live_service_url
        if not url:
            raise InvalidCommand(
                f"redeploy needs a serviceUrl: none was given and {service_url_setting} is not "
                "set.",
                USAGE[name],
            )
        return WriteCommand(name, "force-redeploy", {"serviceUrl": url, "force": True})
    if name == "cleanup":
        if not rest:
            return FormCommand("cleanup")
        _at_most(name, rest, 2)
        if len(rest) == 2 and rest[1].lower() not in FORCE_DRAIN:
            raise InvalidCommand(
                f"Unexpected {rest[1]!r}: the only option is force-drain.", USAGE[name]
            )
        args = {"serviceUrl": _unwrap(rest[0]), "forceDrain": len(rest) == 2}
        return WriteCommand(name, "cleanup-stale-deployments", args)
    if name == "recover":
        if not rest:
            return FormCommand("recover")
        if len(rest) < 2:
            raise InvalidCommand("recover needs a serviceName and a serviceKey.", USAGE[name])
        reason = " ".join(rest[2:]) or None
        args = {"serviceName": rest[0], "serviceKey": rest[1]}
        return WriteCommand(name, "recover-stuck-workflow", args, reason)
    raise InvalidCommand(f"Unknown command {words[0]!r}.", ALL_USAGE)


def _at_most(name: str, rest: list[str], count: int) -> None:
    if len(rest) > count:
        extra = " ".join(rest[count:])
        raise InvalidCommand(f"Unexpected {extra!r} after {name}.", USAGE[name])


def _count(rest: list[str]) -> int:
    _at_most("audit", rest, 1)
    if not rest:
        return AUDIT_DEFAULT
    if not rest[0].isdigit() or not 1 <= int(rest[0]) <= AUDIT_MAX:
        raise InvalidCommand(
            f"audit takes a number of attempts from 1 to {AUDIT_MAX}, not {rest[0]!r}.",
            USAGE["audit"],
        )
    return int(rest[0])
