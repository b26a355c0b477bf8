"""Dependencies point one way: bot -> handlers -> core; only the adapters touch HTTP and Redis."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imported_modules(package).items()
        if path not in allowed
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


def test_core_never_imports_slack_handlers_or_bot() -> None:
    """core/ is Slack-agnostic and knows nothing of its callers."""
    assert offenders("core", ("slack_bolt", "slack_sdk", "handlers", "bot")) == []


def test_handlers_never_import_bot() -> None:
    """handlers/ depend on core only, never on the wiring above them."""
    assert offenders("handlers", ("bot",)) == []


@pytest.mark.parametrize("package", ["handlers", "bot"])
def test_only_core_adapters_talk_to_restate_or_redis_directly(package: str) -> None:
    """handlers/ never talk HTTP to Restate; only core's adapters use httpx and redis."""
    allowed = (
        # Wiring builds the Redis client once and the local dev stack drives its own processes.
        "bot/services.py",
        "bot/devstack/processes.py",
        "bot/devstack/ingress.py",
        "bot/devstack/waiting.py",
        "bot/demo.py",
        "bot/http.py",
    )
    forbidden = ("httpx", "httpx2") if package == "bot" else ("httpx", "httpx2", "redis")
    assert offenders(package, forbidden, allowed) == []


def test_only_the_client_module_uses_httpx_in_core() -> None:
    """Every Restate admin call lives in core/restate/client.py."""
    assert offenders("core", ("httpx", "httpx2"), ("core/restate/client.py",)) == []
