"""Keep credentials out of the audit stream and out of the logs.

Two rules apply to every value that is stored or logged:

* a URL with user info keeps everything byte-for-byte except the user info, which becomes
  ``REDACTED`` (``http://user:pw@host:8080/p?q#f`` -> ``http://REDACTED@host:8080/p?q#f``), whether
  the URL is the whole string or sits inside a sentence;
* the value under a secret-looking key (``token``, ``password``, ``apiKey``, ``X-Api-Key`` ...)
  becomes ``[REDACTED]``; well-known token shapes (Slack ``xox?-``/``xapp-``, ``Bearer ...``)
  are masked wherever they appear.

Log records also get ``key=value`` masking and the exact values of configured secrets (the API keys
and tokens the bot was started with) through :class:`RedactingFilter`.

Two entry points, for two kinds of boundary:

* :func:`sanitize` for what is *stored* (the audit): user info, secret keys and token shapes;
* :func:`redact_outgoing` for what is *sent* (HTTP answers, CLI output): user info and token
  shapes only, so the answer keeps its field names and shape.

What is sent is also made encodable: a lone surrogate (``"\\ud800"``, which JSON allows and UTF-8
cannot carry) becomes the six visible characters ``\\ud800``, so no value can stop an answer.
(The audit stores such strings as they are: its entries are ASCII-escaped JSON.)

Known limit: user info that contains an unencoded ``/``, ``?`` or ``#`` is not a URL by RFC 3986
(the authority ends there), so only what precedes that character is recognised.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REDACTED_USERINFO = "REDACTED"
REDACTED_VALUE = "[REDACTED]"

# scheme "://" userinfo "@". The authority ends at the first "/", "?", "#" or whitespace (RFC 3986;
# also the characters that cannot appear in a URL at all). "@" is allowed inside the class and the
# match is greedy, so the *last* "@" of the authority ends the user info, as urlsplit decides too:
# a sloppy "user:p@ss@host" is redacted whole instead of leaking "ss". The lookbehind lets a
# scheme start only where a run of scheme characters starts: linear time on long log lines.
_URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#\"<>\\^`{|}]+@"
)

# Slack bot/user/app tokens and HTTP credentials carry their secret in the token itself.
_TOKEN_SHAPES = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]{8,}")
_AUTH_SCHEMES = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")

# Key names are compared without case and separators: "X-Api-Key", "api_key", "apiKey" -> "xapikey".
_SECRET_KEY_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "privatekey",
    "signature",
)
# Too short to match inside other words ("author", "pwdiff"), so only as the whole key.
_SECRET_KEYS_EXACT = frozenset({"auth", "pwd", "pass"})

# For free text in logs: `token=abc`, `"apiKey": "abc"`, `X-Api-Key: abc`. Any word followed by
# ":" or "=" matches (starting only where a word starts, so it stays linear); the replacement
# keeps it unless the word names a secret.
_ASSIGNMENT = re.compile(
    r"(?<![\w-])(?P<key>[\w-]+)(?P<sep>\"?\s*[:=]\s*\"?)(?P<value>[^\s\"',;&}]+)"
)


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a credential, whatever its case or separators."""
    normalized = re.sub(r"[^a-z0-9]", "", str(key).lower())
    return normalized in _SECRET_KEYS_EXACT or any(p in normalized for p in _SECRET_KEY_PARTS)


# A str holds a surrogate code point only when it is unpaired: UTF-8 cannot encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """True when ``text`` cannot be encoded as UTF-8 (it holds an unpaired surrogate)."""
    return _SURROGATE.search(text) is not None


def encodable(text: str) -> str:
    """``text`` with each lone surrogate written out as ``\\udXXX``: valid UTF-8, still visible."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def redact_text(text: str) -> str:
    """``text`` with URL user info replaced by ``REDACTED`` and well-known tokens masked."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED_USERINFO}@", text)
    text = _TOKEN_SHAPES.sub(REDACTED_VALUE, text)
    return _AUTH_SCHEMES.sub(lambda m: f"{m['scheme']} {REDACTED_VALUE}", text)


def sanitize(value: Any) -> Any:
    """A copy of ``value`` safe to store: applied at any depth of dicts, lists and tuples.

    Strings go through :func:`redact_text`; values under secret-looking keys become
    ``[REDACTED]`` (``None`` stays ``None``: it reveals nothing and says the secret was absent).
    Other scalars are returned unchanged. Idempotent.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            _key(key): REDACTED_VALUE if is_secret_key(key) and item is not None else sanitize(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [sanitize(item) for item in value]
    if isinstance(value, tuple):
        return tuple(sanitize(item) for item in value)
    return value


def redact_outgoing(value: Any) -> Any:
    """A copy of a JSON-like answer safe to send: every string and key through :func:`redact_text`
    and :func:`encodable`.

    Unlike :func:`sanitize`, values under secret-looking keys are kept: an answer's fields are
    the product's own, and masking one would change its shape. Idempotent.
    """
    if isinstance(value, str):
        return encodable(redact_text(value))
    if isinstance(value, Mapping):
        return {
            encodable(_key(key)) if isinstance(key, str) else key: redact_outgoing(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_outgoing(item) for item in value]
    return value


def _key(key: Any) -> Any:
    """A mapping key as stored or sent: strings redacted (a field *name* may be a URL too)."""
    return redact_text(key) if isinstance(key, str) else key


class RedactingFilter(logging.Filter):
    """Masks credentials in log records: their message, arguments, traceback and stack.

    Install it on *handlers* (see :func:`install_log_redaction`): a filter on a logger does not
    see records propagated from its children. The record is rendered here (``msg % args``) and
    ``args`` dropped, so the text every later formatter sees is already clean.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another one is replaced whole. Very short
        # values would mask ordinary words and are not real credentials.
        self._known = sorted({s for s in known_secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._known:
            text = text.replace(secret, REDACTED_VALUE)
        text = redact_text(text)
        return _ASSIGNMENT.sub(_mask_assignment, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(_render(record))
        record.args = None
        self._redact_traces(record)
        return True

    def redact_keeping_args(self, record: logging.LogRecord) -> None:
        """Redact ``record`` but keep its arguments (redacted) for formatters that read them.

        The template loses URL user info and token shapes (not ``key=value`` masking, which could
        swallow a ``%s``); each argument gets the full treatment. Numbers stay numbers for ``%d``;
        any other object becomes its redacted text (an exception's message may hold a URL).
        """
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: self._redact_arg(value) for key, value in args.items()}
        elif args:
            record.args = tuple(self._redact_arg(value) for value in args)
        self._redact_traces(record)

    def _redact_arg(self, value: Any) -> Any:
        if value is None or isinstance(value, int | float):
            return value
        if isinstance(value, Mapping | list | tuple):
            return sanitize(value)
        return self.redact(str(value))

    def _redact_traces(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is rendered once, clean.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


_TRACEBACKS = logging.Formatter()


def _mask_assignment(match: re.Match[str]) -> str:
    if not is_secret_key(match["key"]):
        return match[0]
    return f"{match['key']}{match['sep']}{REDACTED_VALUE}"


def _render(record: logging.LogRecord) -> str:
    """The record's message with sanitized arguments (secret keys in dict arguments masked)."""
    args = record.args
    if not args:
        return str(record.msg)
    safe = sanitize(dict(args)) if isinstance(args, Mapping) else tuple(sanitize(a) for a in args)
    try:
        return str(record.msg) % safe
    except (TypeError, ValueError, KeyError):
        # e.g. "%(token)d" once the value became "[REDACTED]". Rendering the original arguments
        # would leak them, so show the template beside the sanitized arguments instead.
        return f"{record.msg} {safe!r}"


def install_log_redaction(
    known_secrets: Iterable[str] = (), logger: logging.Logger | None = None
) -> RedactingFilter:
    """Add one :class:`RedactingFilter` to every handler of ``logger`` (the root by default)."""
    redacting = RedactingFilter(known_secrets)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redacting)
    return redacting


def redact_new_records(redacting: RedactingFilter) -> None:
    """Redact every log record as it is created, whichever handler later writes it.

    Handler filters only protect the handlers that exist when they are installed; a handler added
    later (a test's capture, an ASGI server's, an error reporter's) would see raw records. The
    record factory runs for every record that passes its logger's level, before any handler.
    Arguments are kept (redacted), so formatters that read them still work. Installing twice
    keeps one redaction.
    """
    previous = logging.getLogRecordFactory()
    if isinstance(previous, _RedactingFactory):
        previous = previous.inner

    logging.setLogRecordFactory(_RedactingFactory(previous, redacting))


class _RedactingFactory:
    def __init__(self, inner: Callable[..., logging.LogRecord], redacting: RedactingFilter) -> None:
        self.inner = inner
        self.redacting = redacting

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.redacting.redact_keeping_args(record)
        return record
