"""The store for many replicas: conversations and deliveries in Redis (the only module that
imports redis).

Key layout (prefix `advisor:` by default):
    advisor:conv:<surface>:<team>:<channel>:<thread>:<user>   hash {data: JSON, v: version}
    advisor:lock:<conversation key>                            redis-py Lock (token value)
    advisor:delivery:<event or action id>                      "1", expires after the TTL
    advisor:hits:<user>:<minute>                               a counter for the rate limit
    advisor:events                                             sorted set: event JSON by time
    advisor:votes / advisor:votes:at                           hash key -> vote JSON; key by time

A replica that dies holding a lock loses it after `lock_timeout` seconds; a replica that
outlives its lock (a long GC pause) is fenced by the version check in SAVE_SCRIPT, so it can
never overwrite a newer state.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, cast

import redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError

from bot.errors import StaleStateError, StoreError
from bot.store.base import JSON, ConversationKey, StateStore, Stored

# KEYS[1]: conversation hash. ARGV: expected version, JSON data, TTL seconds.
SAVE_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return -1
end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'v', current + 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return current + 1
"""


# KEYS: votes hash, votes-by-time set. ARGV: key, vote JSON, its time. Returns the old vote.
PUT_VOTE_SCRIPT = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return old
"""

# KEYS: events set, votes hash, votes-by-time set. ARGV: the cut-off time. Returns how many.
PURGE_SCRIPT = """
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1])
for _, key in ipairs(old) do
  redis.call('HDEL', KEYS[2], key)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1])
return removed + #old
"""


class RedisStore(StateStore):
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "advisor:",
        lock_timeout: float = 10.0,
        conversation_ttl: int = 7 * 24 * 3600,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.conversation_ttl = conversation_ttl
        self._save = client.register_script(SAVE_SCRIPT)
        self._put_vote = client.register_script(PUT_VOTE_SCRIPT)
        self._purge = client.register_script(PURGE_SCRIPT)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
        return cls(client, **options)

    def _conversation(self, key: ConversationKey) -> str:
        return f"{self.prefix}conv:{key.as_string()}"

    def _hits(self, name: str, window_seconds: int) -> str:
        """The key counting `name` in the current fixed window."""
        return f"{self.prefix}hits:{name}:{int(time.time() // window_seconds)}"

    @contextlib.contextmanager
    def lock(self, key: ConversationKey) -> Iterator[None]:
        lock = self.client.lock(
            f"{self.prefix}lock:{key.as_string()}",
            timeout=self.lock_timeout,
            blocking_timeout=self.lock_timeout + 5,
        )
        try:
            acquired = lock.acquire()
        except RedisError as exc:
            raise StoreError(f"redis: cannot lock {key.as_string()}: {exc}") from exc
        if not acquired:
            raise StoreError(f"redis: timed out waiting for the lock on {key.as_string()}")
        try:
            yield
        finally:
            with contextlib.suppress(LockNotOwnedError, LockError, RedisError):
                lock.release()  # expired already: the version check fenced any late write

    def load(self, key: ConversationKey) -> Stored | None:
        try:
            data, version = self.client.hmget(self._conversation(key), ["data", "v"])
        except RedisError as exc:
            raise StoreError(f"redis: cannot read {key.as_string()}: {exc}") from exc
        if data is None:
            return None
        return Stored(json.loads(data), int(version or 0))

    def load_counted(
        self, key: ConversationKey, name: str, window_seconds: int
    ) -> tuple[Stored | None, int]:
        try:
            pipe = self.client.pipeline(transaction=False)  # one round trip for both
            pipe.hmget(self._conversation(key), ["data", "v"])
            pipe.get(self._hits(name, window_seconds))
            (data, version), count = pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis: cannot read {key.as_string()}: {exc}") from exc
        stored = None if data is None else Stored(json.loads(data), int(version or 0))
        return stored, int(count or 0)

    def save(self, key: ConversationKey, data: JSON, expected_version: int) -> int:
        text = json.dumps(data, separators=(",", ":"))
        try:
            result = self._save(
                keys=[self._conversation(key)],
                args=[expected_version, text, self.conversation_ttl],
            )
        except RedisError as exc:
            raise StoreError(f"redis: cannot write {key.as_string()}: {exc}") from exc
        if int(result) < 0:
            raise StaleStateError(f"{key.as_string()}: not at version {expected_version}")
        return int(result)

    def delete(self, key: ConversationKey) -> None:
        try:
            self.client.delete(self._conversation(key))
        except RedisError as exc:
            raise StoreError(f"redis: cannot delete {key.as_string()}: {exc}") from exc

    def first_delivery(self, delivery_id: str, ttl_seconds: float) -> bool:
        try:
            created = self.client.set(
                f"{self.prefix}delivery:{delivery_id}", "1", nx=True, ex=max(1, int(ttl_seconds))
            )
        except RedisError as exc:
            raise StoreError(f"redis: cannot record delivery {delivery_id}: {exc}") from exc
        return bool(created)

    def hit(self, name: str, window_seconds: int) -> int:
        key = self._hits(name, window_seconds)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, window_seconds * 2)
            count, _ = pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis: cannot count {name}: {exc}") from exc
        return int(count)

    def hit_count(self, name: str, window_seconds: int) -> int:
        try:
            count = self.client.get(self._hits(name, window_seconds))
        except RedisError as exc:
            raise StoreError(f"redis: cannot read the count of {name}: {exc}") from exc
        return int(count or 0)

    def add_events(self, events: Sequence[JSON]) -> None:
        # A sorted set keeps one copy of equal members: a nonce keeps equal events apart.
        members = {
            json.dumps({**event, "_n": uuid.uuid4().hex[:8]}, separators=(",", ":")): float(
                event["at"]
            )
            for event in events
        }
        if not members:
            return
        try:
            self.client.zadd(f"{self.prefix}events", members)
        except RedisError as exc:
            raise StoreError(f"redis: cannot record events: {exc}") from exc

    def events_since(self, since: float) -> list[JSON]:
        try:
            members = self.client.zrangebyscore(f"{self.prefix}events", since, "+inf")
        except RedisError as exc:
            raise StoreError(f"redis: cannot read events: {exc}") from exc
        events = [json.loads(cast(bytes, member)) for member in members]
        for event in events:
            event.pop("_n", None)
        return events

    def put_vote(self, key: str, vote: JSON) -> JSON | None:
        text = json.dumps(vote, separators=(",", ":"))
        try:
            old = self._put_vote(
                keys=[f"{self.prefix}votes", f"{self.prefix}votes:at"],
                args=[key, text, float(vote["at"])],
            )
        except RedisError as exc:
            raise StoreError(f"redis: cannot record a vote: {exc}") from exc
        return json.loads(old) if old else None

    def votes_since(self, since: float) -> list[JSON]:
        try:
            keys = cast(
                "list[bytes]", self.client.zrangebyscore(f"{self.prefix}votes:at", since, "+inf")
            )
            values = self.client.hmget(f"{self.prefix}votes", keys) if keys else []
        except RedisError as exc:
            raise StoreError(f"redis: cannot read votes: {exc}") from exc
        return [json.loads(value) for value in values if value is not None]

    def purge_events(self, before: float) -> int:
        try:
            removed = self._purge(
                keys=[f"{self.prefix}events", f"{self.prefix}votes", f"{self.prefix}votes:at"],
                args=[before],
            )
        except RedisError as exc:
            raise StoreError(f"redis: cannot purge events: {exc}") from exc
        return int(removed)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError:
            return False

    def close(self) -> None:
        self.client.close()
