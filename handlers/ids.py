"""Identifiers the Slack surface shares between renderers and listeners.

A write button's ``action_id`` names its route (for the audit row of a denied click) and an index
(Slack wants action ids unique within a block); its ``value`` is only the opaque id of the pending
action stored server-side, after the name of the environment whose readout offered it
(``prod:<id>``; a bare ``<id>`` in the environment ``default``, as before environments). Neither
is trusted: the route that runs is the stored one, and the id is looked up in that environment's
key space only (``core.pending``), so an altered name finds nothing.
"""

from __future__ import annotations

import re
from typing import cast

from core.environments import DEFAULT_ENVIRONMENT, valid_name
from core.models import WRITE_ROUTES, Route

COMMAND = "/restate"

RUN_ACTION_PREFIX = "restate.run:"
#: Matches every write button; Bolt routes all of them to one listener.
RUN_ACTION = re.compile(rf"^restate\.run:({'|'.join(sorted(WRITE_ROUTES))}):\d+$")

#: The *Details* button of a stuck run (read-only: answered privately).
DETAILS_ACTION_PREFIX = "restate.details:"
DETAILS_ACTION = re.compile(r"^restate\.details:\d+$")

#: Block ids the click flow finds again in the message it updates.
HEADER_BLOCK = "restate.header"
#: The line under the header saying what is wrong.
SUMMARY_BLOCK = "restate.summary"
STATUS_BLOCK = "restate.status"
#: Offers in a message the bot posted itself (threaded follow-ups) ...
OFFERS_BLOCK = "restate.offers"
#: ... or one posted through the response URL because the bot is not in the channel.
OFFERS_BLOCK_UNTHREADED = "restate.offers.unthreaded"


def offer_block_id(threaded: bool, row: int) -> str:
    """The block id of one action row: which kind of message it is in, and its row."""
    return f"{OFFERS_BLOCK if threaded else OFFERS_BLOCK_UNTHREADED}:{row}"


def offer_kind(block_id: object) -> str | None:
    """``OFFERS_BLOCK`` or ``OFFERS_BLOCK_UNTHREADED`` for an action row's block id, else None."""
    if not isinstance(block_id, str):
        return None
    kind = block_id.rpartition(":")[0] if ":" in block_id else block_id
    return kind if kind in (OFFERS_BLOCK, OFFERS_BLOCK_UNTHREADED) else None


def run_action_id(route: str, index: int) -> str:
    return f"{RUN_ACTION_PREFIX}{route}:{index}"


def route_of(action_id: str) -> Route:
    """The route a button names (informational: the stored pending action decides what runs)."""
    route = action_id.removeprefix(RUN_ACTION_PREFIX).rpartition(":")[0]
    if route not in WRITE_ROUTES:  # RUN_ACTION admits only write routes to the listener
        raise ValueError(f"not a write button: {action_id!r}")
    return cast(Route, route)


def env_value(environment: str, value: str) -> str:
    """A button's value in ``environment``: ``prod:<value>``, or ``<value>`` in ``default``."""
    return value if environment == DEFAULT_ENVIRONMENT else f"{environment}:{value}"


def split_env_value(value: str) -> tuple[str, str]:
    """The environment a button's value names (``default`` when it names none), and the rest.

    Environment names never contain ``:`` (``core.environments``), nor do pending ids; a value
    that may (a triage button's filter, JSON) names an environment only before a valid name.
    """
    environment, sep, rest = value.partition(":")
    return (environment, rest) if sep and valid_name(environment) else (DEFAULT_ENVIRONMENT, value)
