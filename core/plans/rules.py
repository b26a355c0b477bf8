"""The rules every planner, doctor and advice share: each is decided here and nowhere else.

* **URL identity.** Two questions, two relations. :func:`same_url` answers "does the URL an
  operator typed name this registration?" (the operator guide's *exact* match, tolerant only of the
  trailing ``/`` Restate adds to bare hosts). :func:`same_endpoint` answers "would Restate treat
  these two URLs as one endpoint?" (authority and path, not scheme, host case or trailing ``/``),
  which decides whether the live service URL is registered at all.
* **Drain state** of a deployment, from the services whose latest revision it holds and the
  non-terminal invocations pinned to it (the Restate CLI's and web UI's definition).
* **Active run**: every invocation status but the terminal ones is active, including statuses a
  future server invents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.models import DeploymentItem, DrainState
from core.redact import REDACTED_USERINFO, redact_text

#: The operator guide's statuses that are not active. Restate 1.7 reports kills and cancellations
#: as ``completed``; the other two are accepted should a server ever report them.
TERMINAL_STATUSES = frozenset({"completed", "killed", "cancelled"})
_NEVER = datetime.min.replace(tzinfo=UTC)


def same_url(registered: str, requested: str) -> bool:
    """The operator guide's "exact" match, tolerant only of the trailing ``/`` of bare hosts.

    Restate stores ``http://h:9080`` as ``http://h:9080/`` (but keeps ``/v1`` as is), so a URL
    copied from elsewhere may differ by that one slash. Nothing else is normalised: a different
    host spelling (``localhost`` vs ``127.0.0.1``) is a different deployment to Restate too.

    Every surface shows a registered URL's user info as ``REDACTED``, so a URL copied from a
    readout (``http://REDACTED@h:9080/``) names the deployment whose redacted form it is.
    """
    if f"//{REDACTED_USERINFO}@" in requested:
        registered = redact_text(registered)
    return registered.removesuffix("/") == requested.removesuffix("/")


def endpoint_key(url: str) -> tuple[str, str]:
    """How Restate 1.7 tells deployments apart: authority and path, not scheme or trailing ``/``.

    The host is compared case-insensitively (it is a DNS name); user info, port and path as is.
    """
    parts = urlsplit(url.strip())
    userinfo, at, hostport = parts.netloc.rpartition("@")
    return f"{userinfo}{at}{hostport.lower()}", parts.path.rstrip("/")


def same_endpoint(a: str, b: str) -> bool:
    """Whether Restate would register ``a`` and ``b`` as the same endpoint."""
    return endpoint_key(a) == endpoint_key(b)


def drain_state(latest_for: Sequence[str] | None, pinned_active: int | None) -> DrainState:
    """``active`` (holds a service's latest revision), ``draining`` (non-terminal invocations are
    pinned to it), ``drained`` (neither: deleting it breaks nothing) or ``unknown``.

    ``None`` means that fact could not be read. Holding a latest revision is enough to be active;
    anything else needs both facts, so a missing one is never read as drained.
    """
    if latest_for:
        return "active"
    if latest_for is None or pinned_active is None:
        return "unknown"
    return "draining" if pinned_active > 0 else "drained"


def is_active(status: str) -> bool:
    """Every status but the terminal ones is active, including unknown future statuses."""
    return status not in TERMINAL_STATUSES


def active_status_sql(column: str) -> str:
    """:func:`is_active` as a SQL condition on ``column`` (constants only)."""
    terminal = ", ".join(f"'{status}'" for status in sorted(TERMINAL_STATUSES))
    return f"{column} NOT IN ({terminal})"


def newest(items: Iterable[DeploymentItem]) -> DeploymentItem:
    """The newest deployment (Restate itself overwrites the newest match of an endpoint)."""
    return max(items, key=lambda d: (d.created_at or _NEVER, d.id))
