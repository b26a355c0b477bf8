"""An operator route's body: one JSON object, read within limits, or the rule it breaks.

Whatever the bytes, reading ends in a dict or in :class:`BodyRefused` (an ``InvalidInput`` naming
the field and the rule, with the HTTP status): never in an exception the route did not expect.

    rule                                                   field          status
    at most 64 KiB                                         body           413
    UTF-8 JSON (RFC 8259: no NaN or Infinity, finite       body           400
      numbers of at most 100 characters)
    an object                                              body           400
    nested at most 32 levels                               body           400
    each key once per object                               the key        422
    valid Unicode (no lone surrogate such as "\\ud800")    the field      422

No valid request comes near these limits (the largest is a few hundred bytes, two levels deep);
they keep parsing, validation, the audit and the answer bounded and encodable.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

from core.errors import InvalidInput
from core.redact import encodable, has_lone_surrogate

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100


class BodyRefused(Exception):
    """The body breaks a rule above: ``error`` (``InvalidInput``) is answered with ``status``.

    ``parsed`` is the object when the problem is inside it (a duplicate key, a lone surrogate),
    so the refusal can audit what was sent; None when there is no object to show.

    Not an ``OpsError`` subclass: the error tree keeps one type per code.
    """

    def __init__(
        self, field: str, rule: str, status: int, parsed: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{field}: {rule}")
        self.error = InvalidInput(field, rule)
        self.status = status
        self.parsed = parsed


class _NotJson(ValueError):
    """Raised from the parser's hooks: text ``json`` accepts but RFC 8259 JSON does not."""


class _DuplicateKeys(dict[str, Any]):
    """An object in which ``duplicate`` appeared more than once (the last value was kept)."""

    duplicate: str


async def read_body(chunks: AsyncIterator[bytes]) -> dict[str, Any]:
    """The body as a JSON object; an empty body reads as ``{}`` (what doctor expects)."""
    raw = bytearray()
    async for chunk in chunks:
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise BodyRefused("body", f"must be at most {MAX_BODY_BYTES} bytes", 413)
    return parse_body(bytes(raw))


def parse_body(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object within the rules of this module, or :class:`BodyRefused`."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(
            raw,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except RecursionError:
        raise BodyRefused("body", f"must nest at most {MAX_DEPTH} levels", 400) from None
    except _NotJson as exc:
        raise BodyRefused("body", f"must be valid JSON ({exc})", 400) from None
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise BodyRefused("body", f"must be valid JSON ({problem})", 400) from None
    except UnicodeDecodeError:
        raise BodyRefused("body", "must be valid JSON (not UTF-8)", 400) from None
    except ValueError as exc:  # anything else the parser refuses, e.g. a malformed number
        raise BodyRefused("body", f"must be valid JSON ({exc})", 400) from None
    if not isinstance(value, dict):
        raise BodyRefused("body", f"must be a JSON object, not {_json_type(value)}", 400)
    _check_inside(value)
    return value


def _check_inside(body: dict[str, Any]) -> None:
    """Walk the object (iteratively, in document order) for the rules a parser cannot apply."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), body)]
    while stack:
        path, value = stack.pop()
        if len(path) >= MAX_DEPTH and isinstance(value, dict | list):
            raise BodyRefused("body", f"must nest at most {MAX_DEPTH} levels", 400)
        if isinstance(value, _DuplicateKeys):
            field = _field((*path, value.duplicate))
            raise BodyRefused(field, "must appear only once", 422, body)
        if isinstance(value, str) and has_lone_surrogate(value):
            raise BodyRefused(_field(path), _UNICODE_RULE, 422, body)
        children: list[tuple[str, Any]] = []
        if isinstance(value, dict):
            for key, item in value.items():
                if has_lone_surrogate(key):
                    raise BodyRefused(_field((*path, key)), _UNICODE_RULE, 422, body)
                children.append((key, item))
        elif isinstance(value, list):
            children = [(str(index), item) for index, item in enumerate(value)]
        stack.extend(((*path, key), item) for key, item in reversed(children))


_UNICODE_RULE = "must be valid Unicode text (it holds a lone surrogate, e.g. \\ud800)"


def _field(path: tuple[str, ...]) -> str:
    """The dotted path of a field, as ``core.models.parse_request`` names fields."""
    return encodable(".".join(path)) or "body"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    flagged = _DuplicateKeys(value)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            flagged.duplicate = key
            break
        seen.add(key)
    return flagged


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NotJson(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"the number {text} is out of range")
    return value


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NotJson(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
