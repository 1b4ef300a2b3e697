"""Per-conversation locks for the memory store (in-process) and the SQLite store (also
between the processes sharing its file).

A lock per key would grow with every conversation ever seen; a fixed set of locks, picked by
the key's hash, stays bounded. Two conversations may share a lock and then wait for each
other for the few milliseconds of a turn, which is harmless.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StoreError
from bot.store.base import ConversationKey


class StripedLocks:
    def __init__(self, stripes: int = 1024) -> None:
        self._locks = [threading.RLock() for _ in range(stripes)]

    def __call__(self, key: ConversationKey) -> threading.RLock:
        return self._locks[hash(key) % len(self._locks)]


class SharedFileLocks:
    """Per-conversation locks that also hold between processes: the worker processes of one
    `advisor serve` (bot/adapters/slack/workers.py) sharing one SQLite file.

    A stripe is an fcntl lock on one byte of a lock file beside the database, taken after the
    stripe's in-process lock (fcntl locks belong to a process, not a thread, so only one of a
    process's threads may hold a stripe). The kernel drops a process's locks when it dies, so
    a worker killed mid-turn never leaves a conversation locked. The stripe is picked by a
    stable hash of the key: every process must pick the same one.
    """

    def __init__(self, path: Path, stripes: int = 1024) -> None:
        self.path = path
        self._fd: int | None = None
        self._guard = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(stripes)]

    def __call__(self, key: ConversationKey) -> contextlib.AbstractContextManager[None]:
        return self._held(zlib.crc32(key.as_string().encode()) % len(self._stripes))

    @contextlib.contextmanager
    def _held(self, stripe: int) -> Iterator[None]:
        with self._stripes[stripe]:
            fd = self.open()
            self._lock(fd, stripe)
            try:
                yield
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, stripe)

    def open(self) -> int:
        """The lock file's descriptor; opened again after close()."""
        with self._guard:
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                except OSError as error:
                    raise StoreError(f"cannot open the lock file {self.path}: {error}") from None
            return self._fd

    @staticmethod
    def _lock(fd: int, stripe: int) -> None:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX, 1, stripe)  # waits; releases the GIL
                return
            except OSError as error:
                # The kernel reports a deadlock by process, and can see one where two
                # threads of each process wait on different stripes: wait and try again.
                if error.errno != errno.EDEADLK:
                    raise
                time.sleep(0.001)

    def close(self) -> None:
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
