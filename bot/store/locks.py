"""In-process per-conversation locks for the memory and SQLite stores.

A lock per key would grow with every conversation ever seen; a fixed set of locks, picked by
the key's hash, stays bounded. Two conversations may share a lock and then wait for each
other for the few milliseconds of a turn, which is harmless.
"""

from __future__ import annotations

import threading

from bot.store.base import ConversationKey


class StripedLocks:
    def __init__(self, stripes: int = 1024) -> None:
        self._locks = [threading.RLock() for _ in range(stripes)]

    def __call__(self, key: ConversationKey) -> threading.RLock:
        return self._locks[hash(key) % len(self._locks)]
