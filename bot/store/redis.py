"""The store for many replicas: conversations and deliveries in Redis (the only module that
imports redis).

Key layout (prefix `advisor:` by default):
    advisor:conv:<surface>:<team>:<channel>:<thread>:<user>   hash {data: JSON, v: version}
    advisor:lock:<conversation key>                            redis-py Lock (token value)
    advisor:delivery:<delivery id>                             "1", expires after the dedupe window
    advisor:inbox / advisor:inbox:lease / advisor:inbox:tries  hash id -> delivery JSON; id by lease
                                                               end; hash id -> times taken
    advisor:hits:<user>:<minute>                               a counter for the rate limit
    advisor:events                                             sorted set: event JSON by time
    advisor:votes / advisor:votes:at                           hash key -> vote JSON; key by time

A lock lives `lock_timeout` seconds and is renewed while its holder is alive and holding it,
so a turn that waits on a slow Slack keeps it, and a replica that dies loses it within those
few seconds. A replica that outlives its lock anyway (a pause longer than the lease) is fenced
by the version check in SAVE_SCRIPT, so it can never overwrite a newer state.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, cast

import redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.lock import Lock

from bot.errors import StaleStateError, StoreError
from bot.store.base import JSON, ConversationKey, Entry, StateStore, Stored

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


# KEYS: dedupe mark, inbox hash, leases set, attempts hash. ARGV: id, JSON, lease end, dedupe
# seconds, attempts. The mark and the entry in one step: what was acknowledged is on record.
INBOX_ADD_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[4])) then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
return 1
"""

# KEYS: inbox hash, leases set, attempts hash. ARGV: now, new lease end, limit.
# Returns id, JSON, attempts for each claimed entry, flattened.
INBOX_CLAIM_SCRIPT = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[1], id)
  if data then
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    local tries = redis.call('HINCRBY', KEYS[3], id, 1)
    table.insert(out, id)
    table.insert(out, data)
    table.insert(out, tries)
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
"""


class RedisStore(StateStore):
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "advisor:",
        lock_timeout: float = 3.0,
        lock_wait: float = 30.0,
        conversation_ttl: int = 7 * 24 * 3600,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_wait
        self._held: set[Lock] = set()
        self._held_guard = threading.Lock()
        self._renewer: threading.Thread | None = None
        self.conversation_ttl = conversation_ttl
        self._save = client.register_script(SAVE_SCRIPT)
        self._put_vote = client.register_script(PUT_VOTE_SCRIPT)
        self._purge = client.register_script(PURGE_SCRIPT)
        self._inbox_add = client.register_script(INBOX_ADD_SCRIPT)
        self._inbox_claim = client.register_script(INBOX_CLAIM_SCRIPT)
        self._inbox_keys = [f"{prefix}inbox", f"{prefix}inbox:lease", f"{prefix}inbox:tries"]

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
            blocking_timeout=self.lock_wait,
            thread_local=False,  # its token is read by the thread that renews it, too
        )
        try:
            acquired = lock.acquire()
        except RedisError as exc:
            raise StoreError(f"redis: cannot lock {key.as_string()}: {exc}") from exc
        if not acquired:
            raise StoreError(f"redis: timed out waiting for the lock on {key.as_string()}")
        self._hold(lock)
        try:
            yield
        finally:
            with self._held_guard:
                self._held.discard(lock)
            with contextlib.suppress(LockNotOwnedError, LockError, RedisError):
                lock.release()  # expired already: the version check fenced any late write

    def _hold(self, lock: Lock) -> None:
        """Keep `lock` renewed until it is released (one thread renews every held lock)."""
        with self._held_guard:
            self._held.add(lock)
            if self._renewer is None or not self._renewer.is_alive():
                self._renewer = threading.Thread(
                    target=self._renew_held, name="redis-locks", daemon=True
                )
                self._renewer.start()

    def _renew_held(self) -> None:
        while True:
            time.sleep(self.lock_timeout / 3)
            with self._held_guard:
                held = list(self._held)
            for lock in held:
                # Lost (expired during a long pause, then taken): the save's version check
                # fences this holder; a passing Redis error is retried next round.
                with contextlib.suppress(LockError, RedisError):
                    lock.reacquire()

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

    def inbox_add(
        self, entry_id: str, data: JSON, *, lease_seconds: float, dedupe_seconds: float
    ) -> bool:
        text = json.dumps(data, separators=(",", ":"))
        try:
            added = self._inbox_add(
                keys=[f"{self.prefix}delivery:{entry_id}", *self._inbox_keys],
                args=[
                    entry_id,
                    text,
                    time.time() + lease_seconds,
                    max(1, int(dedupe_seconds)),
                    1 if lease_seconds > 0 else 0,
                ],
            )
        except RedisError as exc:
            raise StoreError(f"redis: cannot record delivery {entry_id}: {exc}") from exc
        return bool(added)

    def inbox_claim(self, lease_seconds: float, limit: int) -> list[Entry]:
        now = time.time()
        try:
            flat = self._inbox_claim(keys=self._inbox_keys, args=[now, now + lease_seconds, limit])
        except RedisError as exc:
            raise StoreError(f"redis: cannot claim from the inbox: {exc}") from exc
        return [
            Entry(flat[i].decode(), json.loads(flat[i + 1]), int(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]

    def inbox_renew(self, entry_ids: Sequence[str], lease_seconds: float) -> None:
        if not entry_ids:
            return
        until = time.time() + lease_seconds
        try:  # XX: an entry finished meanwhile is not brought back
            self.client.zadd(self._inbox_keys[1], dict.fromkeys(entry_ids, until), xx=True)
        except RedisError as exc:
            raise StoreError(f"redis: cannot renew inbox leases: {exc}") from exc

    def inbox_done(self, entry_id: str) -> None:
        inbox, leases, tries = self._inbox_keys
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.hdel(inbox, entry_id)
            pipe.zrem(leases, entry_id)
            pipe.hdel(tries, entry_id)
            pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis: cannot finish inbox entry {entry_id}: {exc}") from exc

    def inbox_depth(self) -> int:
        try:
            return int(self.client.hlen(self._inbox_keys[0]))
        except RedisError as exc:
            raise StoreError(f"redis: cannot read the inbox: {exc}") from exc

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
