"""In-process store for `advisor chat` and the tests. Not shared between processes."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Sequence
from typing import Any

from bot.errors import StaleStateError
from bot.store.base import JSON, ConversationKey, Entry, StateStore, Stored
from bot.store.locks import StripedLocks


class MemoryStore(StateStore):
    def __init__(self) -> None:
        self._data: dict[ConversationKey, Stored] = {}
        self._guard = threading.Lock()
        self._locks = StripedLocks()
        self._deliveries: dict[str, float] = {}
        self._inbox: dict[str, list[Any]] = {}  # id -> [lease until, data, attempts]
        self._hits: dict[tuple[str, int], int] = {}
        self._events: list[JSON] = []
        self._votes: dict[str, JSON] = {}

    def lock(self, key: ConversationKey) -> threading.RLock:
        return self._locks(key)

    def load(self, key: ConversationKey) -> Stored | None:
        stored = self._data.get(key)
        return Stored(copy.deepcopy(stored.data), stored.version) if stored else None

    def save(self, key: ConversationKey, data: JSON, expected_version: int) -> int:
        with self._guard:
            current = self._data.get(key)
            version = current.version if current else 0
            if version != expected_version:
                raise StaleStateError(
                    f"{key.as_string()}: version {version}, expected {expected_version}"
                )
            self._data[key] = Stored(copy.deepcopy(data), version + 1)
            return version + 1

    def delete(self, key: ConversationKey) -> None:
        with self._guard:
            self._data.pop(key, None)

    def inbox_add(
        self, entry_id: str, data: JSON, *, lease_seconds: float, dedupe_seconds: float
    ) -> bool:
        now = time.time()
        with self._guard:
            seen = self._deliveries.get(entry_id)
            if seen is not None and now - seen < dedupe_seconds:
                return False
            self._deliveries[entry_id] = now
            if len(self._deliveries) > 100_000:
                cutoff = now - dedupe_seconds
                self._deliveries = {k: v for k, v in self._deliveries.items() if v >= cutoff}
            attempts = 1 if lease_seconds > 0 else 0
            self._inbox[entry_id] = [now + lease_seconds, copy.deepcopy(data), attempts]
            return True

    def inbox_claim(self, lease_seconds: float, limit: int) -> list[Entry]:
        now = time.time()
        with self._guard:
            due = sorted((v[0], k) for k, v in self._inbox.items() if v[0] <= now)[:limit]
            claimed = []
            for _, key in due:
                slot = self._inbox[key]
                slot[0], slot[2] = now + lease_seconds, slot[2] + 1
                claimed.append(Entry(key, copy.deepcopy(slot[1]), slot[2]))
            return claimed

    def inbox_renew(self, entry_ids: Sequence[str], lease_seconds: float) -> None:
        with self._guard:
            for key in entry_ids:
                if key in self._inbox:
                    self._inbox[key][0] = time.time() + lease_seconds

    def inbox_done(self, entry_id: str) -> None:
        with self._guard:
            self._inbox.pop(entry_id, None)

    def inbox_depth(self) -> int:
        return len(self._inbox)

    def hit(self, name: str, window_seconds: int) -> int:
        window = int(time.time() // window_seconds)
        with self._guard:
            if len(self._hits) > 100_000:
                self._hits = {k: v for k, v in self._hits.items() if k[1] >= window}
            count = self._hits.get((name, window), 0) + 1
            self._hits[(name, window)] = count
            return count

    def hit_count(self, name: str, window_seconds: int) -> int:
        window = int(time.time() // window_seconds)
        with self._guard:
            return self._hits.get((name, window), 0)

    def add_events(self, events: Sequence[JSON]) -> None:
        with self._guard:
            self._events.extend(copy.deepcopy(list(events)))
            self._events.sort(key=lambda event: float(event["at"]))

    def events_since(self, since: float) -> list[JSON]:
        with self._guard:
            return [copy.deepcopy(e) for e in self._events if float(e["at"]) >= since]

    def put_vote(self, key: str, vote: JSON) -> JSON | None:
        with self._guard:
            previous = self._votes.get(key)
            self._votes[key] = copy.deepcopy(vote)
            return previous

    def votes_since(self, since: float) -> list[JSON]:
        with self._guard:
            return [copy.deepcopy(v) for v in self._votes.values() if float(v["at"]) >= since]

    def purge_events(self, before: float) -> int:
        with self._guard:
            kept = [e for e in self._events if float(e["at"]) >= before]
            votes = {k: v for k, v in self._votes.items() if float(v["at"]) >= before}
            removed = len(self._events) - len(kept) + len(self._votes) - len(votes)
            self._events, self._votes = kept, votes
            return removed
