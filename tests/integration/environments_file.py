"""Write an environments file (``RESTATE_OPS_CONFIG``) for tests of several environments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.integration.conftest import RestateStack

Value = str | bool | float | int | Sequence[str] | Mapping[str, str]


def _toml(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(json.dumps(item) for item in value) + "]"


def write_environments(
    path: Path,
    environments: Mapping[str, Mapping[str, Value]],
    *,
    default: str | None = None,
) -> Path:
    """``environments``: name → keys of its ``[environments.<name>]`` table (values as TOML)."""
    lines = [f"default_environment = {json.dumps(default)}", ""] if default else []
    for name, keys in environments.items():
        lines.append(f"[environments.{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in keys.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_two_environments(
    path: Path,
    prod: RestateStack,
    staging: RestateStack,
    *,
    prod_keys: Mapping[str, Value] | None = None,
    staging_keys: Mapping[str, Value] | None = None,
    **more: Mapping[str, Value],
) -> Path:
    """prod on ``prod``'s server and staging, the default, on ``staging``'s (their admin and
    ingress URLs), each table with its ``*_keys`` added; ``more``: further environments."""
    return write_environments(
        path,
        {
            "prod": {
                "admin_url": prod.admin_url,
                "ingress_url": prod.ingress_url,
                **(prod_keys or {}),
            },
            "staging": {
                "admin_url": staging.admin_url,
                "ingress_url": staging.ingress_url,
                **(staging_keys or {}),
            },
            **more,
        },
        default="staging",
    )
