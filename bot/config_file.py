"""The environments file (``RESTATE_OPS_CONFIG``, TOML): several Restate environments in one bot.

    default_environment = "staging"          # optional, see below

    [environments.prod]
    admin_url = "https://restate-prod.internal:9070"
    ingress_url = "https://restate-prod.internal:8080"
    service_url = "http://ddwf:9080"
    operator_allowlist = ["U012ABCDEF", "S0PRODOPS"]
    operator_api_keys = { env = "PROD_OPERATOR_API_KEYS" }   # a secret, read from a variable
    channels = ["C0PRODINC"]

Any string value may be ``{ env = "VARIABLE" }``: it is read from that environment variable, so
secrets (API keys, URLs with credentials) stay out of the file. Unknown keys are refused (a typo
must not turn a check off). Every error names the file, the line and the key, never a secret.

The default environment (used when a request names none): ``default_environment``, else the one
called ``default``, else the only one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from core.authz import Allowlist, ApiKeyring
from core.environments import (
    DEFAULT_ENVIRONMENT,
    NAME_RULE,
    EnvironmentSpec,
    production_by_name,
    valid_name,
)


class ConfigFileError(Exception):
    """The environments file is unreadable or invalid; each line names file, line and key."""


def _empty_is_unset(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalUrl = Annotated[HttpUrl | None, BeforeValidator(_empty_is_unset)]


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class EnvironmentEntry(BaseModel):
    """One ``[environments.<name>]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_url: HttpUrl
    ingress_url: OptionalUrl = None
    service_url: OptionalUrl = None
    ui_url: OptionalUrl = None
    probe_timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: Slack user ids (U…/W…) and user group ids (S…): a list, or one comma-separated string.
    operator_allowlist: Annotated[list[str] | None, BeforeValidator(_comma_list)] = None
    #: ``name=key,…`` like ``OPERATOR_API_KEYS``.
    operator_api_keys: str = ""
    readonly_api_keys: str = ""
    channels: Annotated[list[str], BeforeValidator(_comma_list)] = []
    #: Default: true for ``prod``, ``prod-*``, ``production*``.
    production: bool | None = None

    @field_validator("operator_allowlist")
    @classmethod
    def _allowlist(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            Allowlist.parse(",".join(value))  # raises naming the bad entry
        return value

    @field_validator("operator_api_keys", "readonly_api_keys")
    @classmethod
    def _keys(cls, value: str) -> str:
        ApiKeyring.parse(value)  # the entry's shape; its message never echoes a key
        return value

    @model_validator(mode="after")
    def _one_keyring(self) -> Self:
        try:  # a name may not be both an operator and a read-only key
            ApiKeyring.parse(self.operator_api_keys, self.readonly_api_keys)
        except ValueError as exc:
            raise ValueError(f"operator_api_keys / readonly_api_keys: {exc}") from None
        return self

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if not re.fullmatch(r"[CGD][A-Z0-9]{2,}", channel):
                raise ValueError(f"{channel!r} is not a Slack channel id (C…/G…)")
        return value


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_environment: str | None = None
    environments: dict[str, EnvironmentEntry] = Field(min_length=1)


def load_environments(path: Path, *, slack: bool) -> tuple[list[EnvironmentSpec], str]:
    """The environments of ``path`` and the default's name; ``ConfigFileError`` otherwise.

    ``slack``: Slack is on, so each environment needs an operator allowlist.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    locate = _Locator(path, text)
    problems: list[str] = []
    refs: dict[tuple[str, ...], tuple[str, str]] = {}
    resolved = _resolve_refs(raw, (), locate, problems, refs)
    if problems:
        raise ConfigFileError("\n".join(problems))
    try:
        config = ConfigFile.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigFileError(
            "\n".join(
                locate.describe(loc, _unechoed(_message(error), loc, refs))
                for error in exc.errors()
                for loc in [tuple(str(p) for p in error["loc"])]
            )
        ) from None
    specs: list[EnvironmentSpec] = []
    for name, entry in config.environments.items():
        if not valid_name(name):
            problems.append(
                locate.describe(("environments", name), f"the name must be {NAME_RULE}, not 'all'")
            )
            continue
        if slack and not entry.operator_allowlist:
            problems.append(
                locate.describe(
                    ("environments", name, "operator_allowlist"),
                    "is required when SLACK_BOT_TOKEN is set (who may operate here)",
                )
            )
        specs.append(_spec(name, entry))
    default = _default_name(config, locate, problems)
    seen: dict[str, str] = {}
    for spec in specs:
        for channel in sorted(spec.channels):
            if channel in seen:
                problems.append(
                    locate.describe(
                        ("environments", spec.name, "channels"),
                        f"channel {channel} is already bound to {seen[channel]}",
                    )
                )
            seen[channel] = spec.name
    if problems:
        raise ConfigFileError("\n".join(problems))
    assert default is not None
    return specs, default


def _spec(name: str, entry: EnvironmentEntry) -> EnvironmentSpec:
    return EnvironmentSpec(
        name=name,
        admin_url=str(entry.admin_url),
        ingress_url=_text(entry.ingress_url),
        service_url=_text(entry.service_url),
        ui_url=_text(entry.ui_url),
        probe_timeout_s=entry.probe_timeout_s,
        allowlist=Allowlist.parse(",".join(entry.operator_allowlist))
        if entry.operator_allowlist
        else None,
        api_keys=ApiKeyring.parse(entry.operator_api_keys, entry.readonly_api_keys),
        channels=frozenset(entry.channels),
        production=production_by_name(name) if entry.production is None else entry.production,
    )


def _default_name(config: ConfigFile, locate: _Locator, problems: list[str]) -> str | None:
    names = list(config.environments)
    if config.default_environment is not None:
        if config.default_environment not in config.environments:
            problems.append(
                locate.describe(("default_environment",), f"must be one of {', '.join(names)}")
            )
            return None
        return config.default_environment
    if DEFAULT_ENVIRONMENT in config.environments:
        return DEFAULT_ENVIRONMENT
    if len(names) == 1:
        return names[0]
    problems.append(
        locate.describe(
            ("default_environment",),
            "is required when there are several environments and none is called 'default'",
        )
    )
    return None


def _text(url: object | None) -> str | None:
    return None if url is None else str(url)


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known key"
    return message


#: A piece of a variable's value this long or longer is never shown in an error.
_SHOWN_BELOW = 4


def _resolve_refs(
    value: Any,
    path: tuple[str, ...],
    locate: _Locator,
    problems: list[str],
    refs: dict[tuple[str, ...], tuple[str, str]],
) -> Any:
    """Replace every ``{ env = "VAR" }`` with the variable's value; ``refs`` records where each
    came from (the variable and its value), so that no error shows the value."""
    if isinstance(value, dict):
        if set(value) == {"env"} and path and path[0] == "environments":
            variable = value["env"]
            if not isinstance(variable, str) or not variable:
                problems.append(locate.describe(path, "env must name an environment variable"))
                return None
            found = os.environ.get(variable)
            if found is None:
                problems.append(
                    locate.describe(path, f"the environment variable {variable} is not set")
                )
            else:
                refs[path] = (variable, found)
            return found
        return {k: _resolve_refs(v, (*path, k), locate, problems, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, path, locate, problems, refs) for v in value]
    return value


def _unechoed(
    message: str, loc: tuple[str, ...], refs: Mapping[tuple[str, ...], tuple[str, str]]
) -> str:
    """``message`` without any part of the value a variable gave the key at ``loc``: a value
    read from a variable may be a secret (a reference to the wrong variable must not print it)."""
    for path, (variable, found) in refs.items():
        if loc[: len(path)] != path:
            continue
        pieces = {found, found.strip(), *(part.strip() for part in found.split(","))}
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= _SHOWN_BELOW and piece in message:
                message = message.replace(piece, f"<from {variable}>")
    return message


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


class _Locator:
    """Finds the line of a key in the file's text (tomllib keeps no positions).

    Tables are ``[a.b]`` headers and keys are ``key =`` lines under them; a key written some
    other way (an inline table, a dotted key) is reported at its table's line.
    """

    def __init__(self, path: Path, text: str) -> None:
        self._path = path
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                table = _parts(header.group(1))
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, key.group(1).strip("\"'")), number)

    def line(self, path: Sequence[str]) -> int | None:
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def describe(self, path: Sequence[str], message: str) -> str:
        line = self.line(path)
        where = f"{self._path}:{line}" if line else str(self._path)
        return f"{where}: {'.'.join(path)}: {message}"
