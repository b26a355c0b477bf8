"""Where the watch keeps everything that must survive restarts and be shared by replicas: Redis.

Keys, under one prefix (``restate-ops:watch:`` by default):

    channels             set     subscribed Slack channels
    snooze:<channel>     hash    rule (or ``all``) -> until (ISO 8601)
    alerts               hash    alert key -> AlertState JSON (pending and open alerts)
    memory               string  what the rules remember (draining since, last version)
    messages             hash    "<alert key>|<channel>" -> PostedMessage JSON (a claim, with
                                 its delivery id, until Slack's ts is stored)
    checks               hash    count and time of the leader's last check

Every write the leader makes during a check is fenced (see ``core.watch.lease``): one Lua script
checks the lease still holds the leader's token and applies the write, atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from core.watch.catalog import RuleName
from core.watch.hysteresis import AlertState
from core.watch.lease import Leadership, lease_key
from core.watch.rules import Memory

DEFAULT_PREFIX = "restate-ops:watch:"
ALL_RULES = "all"

_SAVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
local states = cjson.decode(ARGV[2])
for key, value in pairs(states) do redis.call('HSET', KEYS[2], key, value) end
redis.call('SET', KEYS[3], ARGV[3])
redis.call('HINCRBY', KEYS[4], 'count', 1)
redis.call('HSET', KEYS[4], 'at', ARGV[4], 'leader', ARGV[1])
return 1
"""

# Claim the right to post one alert into one channel. A claim that already has a message ts, or
# that the current leader made, stands; a claim without ts left by an earlier leader (it died
# between claiming and posting) is taken over.
_CLAIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local existing = redis.call('HGET', KEYS[2], ARGV[2])
if existing then
  local record = cjson.decode(existing)
  if record['ts'] ~= cjson.null and record['ts'] ~= nil then return 0 end
  if record['fence'] == ARGV[1] then return 0 end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# Record Slack's ts after a post, unfenced (a post that happened must not be repeated), unless
# the claim now belongs to another delivery: a leader that stalled mid-post must not point the
# record away from the message its successor posted (or adopted) meanwhile.
_POSTED = """
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local record = cjson.decode(existing)
  local delivery = record['delivery']
  if delivery ~= nil and delivery ~= cjson.null and delivery ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

_FENCED_HSET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_FENCED_HDEL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
"""


class PostedMessage(BaseModel):
    """One alert's message in one channel: posted once, then edited in place."""

    model_config = ConfigDict(frozen=True)

    alert_key: str
    channel: str
    #: None between the claim and Slack's answer.
    ts: str | None = None
    #: The lease value of the leader that claimed it.
    fence: str
    rule: RuleName
    target: str
    count: int
    summary: str
    opened_at: AwareDatetime
    #: When the buttons were last offered (they expire with the pending actions).
    offered_at: AwareDatetime
    #: The count the thread was last told, and when (change notes are throttled).
    noted_count: int
    noted_at: AwareDatetime
    #: The id the post carries (Slack message metadata) and when it was claimed: a new leader
    #: that finds the claim without ts looks the message up by them instead of posting again.
    delivery: str | None = None
    claimed_at: AwareDatetime | None = None

    @property
    def field(self) -> str:
        return message_field(self.alert_key, self.channel)


def message_field(alert_key: str, channel: str) -> str:
    return f"{alert_key}|{channel}"


class _MemoryJson(BaseModel):
    draining_since: dict[str, AwareDatetime] = {}
    version: str | None = None
    previous_version: str | None = None
    version_changed_at: AwareDatetime | None = None


class WatchStore:
    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self.prefix = prefix
        self.lease_key = lease_key(prefix)
        self._channels = f"{prefix}channels"
        self._alerts = f"{prefix}alerts"
        self._memory = f"{prefix}memory"
        self._messages = f"{prefix}messages"
        self._checks = f"{prefix}checks"
        self._save = redis.register_script(_SAVE)
        self._claim = redis.register_script(_CLAIM)
        self._posted = redis.register_script(_POSTED)
        self._hset = redis.register_script(_FENCED_HSET)
        self._hdel = redis.register_script(_FENCED_HDEL)

    # --- subscriptions and snoozes (operators, any replica) ----------------------------------

    async def subscribe(self, channel: str) -> bool:
        """Add ``channel``; False when it was already subscribed."""
        return bool(await self._redis.sadd(self._channels, channel))

    async def unsubscribe(self, channel: str) -> bool:
        return bool(await self._redis.srem(self._channels, channel))

    async def channels(self) -> list[str]:
        return sorted(_text(member) for member in await self._redis.smembers(self._channels))

    async def snooze(self, channel: str, rule: str, until: datetime) -> None:
        await self._redis.hset(f"{self.prefix}snooze:{channel}", rule, until.isoformat())

    async def snoozes(self, channel: str, now: datetime) -> dict[str, datetime]:
        """Snoozes of ``channel`` still running at ``now`` (expired ones are dropped)."""
        key = f"{self.prefix}snooze:{channel}"
        raw = _texts(await self._redis.hgetall(key))
        running: dict[str, datetime] = {}
        for rule, until_text in raw.items():
            until = datetime.fromisoformat(until_text)
            if until > now:
                running[rule] = until
            else:
                await self._redis.hdel(key, rule)
        return running

    # --- the leader's state ---------------------------------------------------------------------

    async def alerts(self) -> dict[str, AlertState]:
        raw = _texts(await self._redis.hgetall(self._alerts))
        states: dict[str, AlertState] = {}
        for key, value in raw.items():
            try:
                states[key] = AlertState.model_validate_json(value)
            except ValidationError:
                continue  # an unreadable entry is dropped: the next check recreates it
        return states

    async def memory(self) -> Memory:
        raw = await self._redis.get(self._memory)
        if raw is None:
            return Memory({})
        try:
            data = _MemoryJson.model_validate_json(raw)
        except ValidationError:
            return Memory({})
        return Memory(
            data.draining_since, data.version, data.previous_version, data.version_changed_at
        )

    async def save(
        self,
        leadership: Leadership,
        states: Mapping[str, AlertState],
        memory: Memory,
        now: datetime,
    ) -> bool:
        """Replace the alert states and memory, count the check; False if no longer leader."""
        encoded = {key: state.model_dump_json() for key, state in states.items()}
        remembered = _MemoryJson(
            draining_since=dict(memory.draining_since),
            version=memory.version,
            previous_version=memory.previous_version,
            version_changed_at=memory.version_changed_at,
        ).model_dump_json()
        done = await self._save(
            keys=[self.lease_key, self._alerts, self._memory, self._checks],
            # cjson encodes an empty Lua table as {} and decodes {} as an empty table: fine.
            args=[leadership.fence, json.dumps(encoded), remembered, now.isoformat()],
        )
        return bool(done)

    async def checks(self) -> tuple[int, datetime | None, str | None]:
        """How many checks leaders have completed, when the last one was, and by whom."""
        raw = _texts(await self._redis.hgetall(self._checks))
        at = datetime.fromisoformat(raw["at"]) if "at" in raw else None
        return int(raw.get("count", 0)), at, raw.get("leader")

    # --- posted messages ------------------------------------------------------------------------

    async def messages(self) -> list[PostedMessage]:
        raw = _texts(await self._redis.hgetall(self._messages))
        found = []
        for value in raw.values():
            try:
                found.append(PostedMessage.model_validate_json(value))
            except ValidationError:
                continue
        return sorted(found, key=lambda m: m.field)

    async def claim(self, leadership: Leadership, message: PostedMessage) -> bool:
        """Reserve the post of ``message`` before posting; False: posted already or not leader."""
        done = await self._claim(
            keys=[self.lease_key, self._messages],
            args=[leadership.fence, message.field, message.model_dump_json()],
        )
        return bool(done)

    async def posted(self, message: PostedMessage) -> bool:
        """Record Slack's ts after the post, unfenced: a post that happened must not be repeated.

        False (nothing written) when the claim was taken over by another delivery meanwhile.
        """
        done = await self._posted(
            keys=[self._messages],
            args=[message.field, message.model_dump_json(), message.delivery or ""],
        )
        return bool(done)

    async def update(self, leadership: Leadership, message: PostedMessage) -> bool:
        done = await self._hset(
            keys=[self.lease_key, self._messages],
            args=[leadership.fence, message.field, message.model_dump_json()],
        )
        return bool(done)

    async def forget(self, leadership: Leadership, message: PostedMessage) -> bool:
        done = await self._hdel(
            keys=[self.lease_key, self._messages], args=[leadership.fence, message.field]
        )
        return bool(done)

    async def forget_channel(self, channel: str) -> None:
        """Drop every message record of an unsubscribed channel (they are never edited again)."""
        for message in await self.messages():
            if message.channel == channel:
                await self._redis.hdel(self._messages, message.field)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(raw: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A hash as text, whether or not the client decodes responses."""
    return {_text(key): _text(value) for key, value in raw.items()}
