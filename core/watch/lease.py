"""The leader lease: exactly one replica watches, and a deposed leader can no longer write.

The lease is one Redis key holding ``<owner>|<token>`` with an expiry. Acquiring it increments a
counter: the **fencing token**, higher for every new leader. The holder renews it during each
check; when it dies (or stalls longer than the lease), the key expires and another replica takes
it within one lease. Only the holder can renew it, so once it lapsed it is gone for good.

Every state write of a check (``core.watch.store``) is a Lua script that applies the write only
while the lease still holds *this* leader's value, so an old leader that wakes up after a pause
cannot overwrite the new one's state or claim a post; :meth:`LeaderLease.renew` right before a
Slack call stops it before it posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  if sep and string.sub(current, 1, sep - 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(current, sep + 1))
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lease_key(prefix: str) -> str:
    """The lease's key, which the fenced writes in ``core.watch.store`` check too."""
    return f"{prefix}lease"


@dataclass(frozen=True)
class Leadership:
    """This replica leads with ``token`` until the lease expires or another takes it."""

    owner: str
    token: int

    @property
    def fence(self) -> str:
        """The exact lease value while this leadership lasts."""
        return f"{self.owner}|{self.token}"


class LeaderLease:
    def __init__(self, redis: Redis, *, prefix: str, owner: str, ttl_ms: int) -> None:
        self._redis = redis
        self.key = lease_key(prefix)
        self._counter = f"{prefix}lease:token"
        self.owner = owner
        self._ttl_ms = ttl_ms
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> Leadership | None:
        """Take the lease if it is free, renew it if ours; None while another replica holds it."""
        token = await self._acquire(keys=[self.key, self._counter], args=[self.owner, self._ttl_ms])
        return Leadership(self.owner, int(token)) if token is not None else None

    async def release(self) -> None:
        """Give the lease up at shutdown, so another replica need not wait for it to expire.

        By owner, whatever the token: an acquire whose reply was lost (cancelled mid-call at
        shutdown) still took the lease, and the owner id is this replica's alone.
        """
        await self._release(keys=[self.key], args=[self.owner])

    async def holder(self) -> str | None:
        """``owner|token`` of the current leader, or None."""
        value: Any = await self._redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    async def renew(self, leadership: Leadership) -> bool:
        """Extend the lease if ``leadership`` is still the current one; False if it is not.

        Called right before each Slack call, so a long delivery keeps the lease it needs and a
        deposed leader stops before it posts.
        """
        renewed = await self._renew(keys=[self.key], args=[leadership.fence, self._ttl_ms])
        return bool(renewed)
