"""The audit trail: every attempt on every surface, in a tamper-evident Redis Stream.

* ``records``: what one attempt records (start, finish, actor) and the ``AuditLog`` port,
  re-exported here: ``from core.audit import Actor, AttemptStart, AuditLog``;
* ``chain``: the entry format and hash chain, pure; ``lua``: the scripts that append and trim
  atomically inside Redis;
* ``store``: ``RedisAuditLog``, the port over a Redis Stream (the only module that talks to Redis
  for the audit); ``verify``: ``audit verify``'s walk of the stream;
* ``views``: one-line and JSON renderings for ``/restate audit`` and ``audit tail``.
"""

from core.audit.records import (
    Actor,
    AttemptFinish,
    AttemptStart,
    AttemptView,
    AuditLog,
    Outcome,
    Phase,
    Surface,
)

__all__ = [
    "Actor",
    "AttemptFinish",
    "AttemptStart",
    "AttemptView",
    "AuditLog",
    "Outcome",
    "Phase",
    "Surface",
]
