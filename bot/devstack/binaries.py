"""Find the server binaries the local stack runs: the pinned restate-server and redis-server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def restate_version() -> str:
    """The Restate server version to run: `RESTATE_VERSION`, else the repository's pinned one."""
    override = os.environ.get("RESTATE_VERSION", "").strip()
    if override:
        return override
    return (_REPO_ROOT / "restate-server.version").read_text().strip()


def _restate_glob(version: str) -> str:
    # `make setup` installs the server from npm into this ignored folder of the repository.
    package = "node_modules/@restatedev/restate-server-*/bin/restate-server"
    return f".cache/restate-server-{version}/{package}"


class BinaryNotFoundError(RuntimeError):
    """A server binary the local stack needs is not installed."""


def restate_server_binary() -> Path:
    """Path of restate-server: env `RESTATE_SERVER_BIN`, else the `make setup` cache, else PATH."""
    override = os.environ.get("RESTATE_SERVER_BIN")
    if override:
        path = Path(override)
        if not _is_executable(path):
            raise BinaryNotFoundError(
                f"RESTATE_SERVER_BIN={override!r} is not an executable file; "
                "unset it or run `make setup` to fetch the pinned restate-server"
            )
        return path
    version = restate_version()
    # Sorted so that the choice is stable if two platform packages were ever installed.
    for candidate in sorted(_REPO_ROOT.glob(_restate_glob(version))):
        if _is_executable(candidate):
            return candidate
    found = shutil.which("restate-server")
    if found:
        return Path(found)
    raise BinaryNotFoundError(
        f"restate-server {version} not found (looked at $RESTATE_SERVER_BIN, "
        f"{_REPO_ROOT / _restate_glob(version)} and PATH); run `make setup`"
    )


def redis_server_binary() -> Path:
    """Path of redis-server on PATH."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise BinaryNotFoundError(
        "redis-server not found on PATH; run `make setup` (it installs the Debian package) "
        "or point REDIS_URL at an existing server"
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
