"""The triage use cases of an environment (built with it in ``bot.environment_wiring``).

Its settings (``TRIAGE_CONCURRENCY``, ``TRIAGE_TWO_PERSON_ACTIONS``, ``TRIAGE_APPROVAL_TTL_S``)
are part of :class:`bot.settings.Settings`; core receives plain values.
"""

from __future__ import annotations

from bot.services import Services
from core.triage.service import Triage


def build_triage(services: Services, environment: str | None = None) -> Triage:
    """The triage of ``environment`` (the default one when None)."""
    triage = services.environments.resolve(environment).triage
    if triage is None:
        raise RuntimeError("this environment was built without triage")
    return triage
