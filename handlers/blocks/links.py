"""Links from a message to the Restate UI of the server it describes, and to the runbook.

The UI is served by the admin API at ``/ui/`` (its default base here); its routes are
``invocations/<id>`` and the overview with a ``service`` or ``deployment`` to show. A link is
``<url|label>`` with the label made inert (``format.esc``) and the URL percent-quoted, so a
server-provided name can never close the link or add one of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from handlers.blocks.format import esc, ident


def _base(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def ui_url_for(admin_url: str) -> str:
    """The default UI base: the admin URL's ``/ui/``."""
    return _base(admin_url) + "ui/"


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is shown as given (escaped)."""
    return f"<{url}|{esc(label)}>"


@dataclass(frozen=True)
class Links:
    """Where readers of a message can look further; None turns a kind of link off."""

    ui_url: str | None = None
    runbook_url: str | None = None
    #: The admin API (for the exact next step of a stuck run).
    admin_url: str | None = None

    def _ui(self, path: str) -> str | None:
        return _base(self.ui_url) + path if self.ui_url else None

    def invocation_url(self, invocation_id: str) -> str | None:
        return self._ui(f"invocations/{quote(invocation_id, safe='')}")

    def service_url(self, name: str) -> str | None:
        return self._ui(f"overview?service={quote(name, safe='')}")

    def deployment_url(self, deployment_id: str) -> str | None:
        return self._ui(f"overview?deployment={quote(deployment_id, safe='')}")

    def invocation(self, invocation_id: str) -> str:
        """The id as inline code, linked to its page when the UI is known."""
        return _linked(ident(invocation_id, 60), self.invocation_url(invocation_id))

    def service(self, name: str) -> str:
        return _linked(ident(name, 80), self.service_url(name))

    def deployment(self, deployment_id: str) -> str:
        return _linked(ident(deployment_id, 60), self.deployment_url(deployment_id))

    def footer(self) -> list[str]:
        """``Restate UI · Runbook`` links for a message's context line."""
        parts = []
        if self.ui_url:
            parts.append(link(self.ui_url, "Restate UI"))
        if self.runbook_url:
            parts.append(link(self.runbook_url, "Runbook"))
        return parts


def _linked(shown: str, url: str | None) -> str:
    # Slack renders inline code inside a link label; the label stays the exact id.
    return f"<{url}|{shown}>" if url else shown
