"""The embedded default store: one SQLite file (under ./var/), WAL, one transaction per save.

The processes of one host may share a file: the worker processes of `advisor serve` do.
Conversation locks are fcntl locks on a file beside the database (locks.SharedFileLocks) and
the rate limit's counts are rows, so both hold across them. Replicas on several hosts need the
Redis store (SQLite's locking is not safe over a network filesystem); the version check still
refuses a save that lost a race, rather than overwrite.

The files must stay the ones the service opened. Deleted or replaced under a running service,
the database would split in two (running workers keep the old one, a replaced worker would
create an empty one) and so would the conversation locks; so a worker that is not the first
refuses to create either file, and the health probe, which also writes a row so a full disk
shows, reports a file that is gone or replaced.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.errors import StaleStateError, StoreError
from bot.store.base import JSON, ConversationKey, Entry, StateStore, Stored
from bot.store.locks import SharedFileLocks

log = logging.getLogger("bot.store")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    lease_until REAL NOT NULL,
    attempts INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inbox_lease ON inbox (lease_until);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS votes (
    key TEXT PRIMARY KEY,
    at REAL NOT NULL,
    data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS votes_at ON votes (at);
CREATE TABLE IF NOT EXISTS hits (
    name TEXT PRIMARY KEY,
    slot INTEGER NOT NULL,
    count INTEGER NOT NULL,
    until REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS health (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
"""


class SQLiteStore(StateStore):
    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc}") from None
        locks = path.with_name(path.name + ".locks")
        if not create:
            for gone in (p for p in (path, locks) if not p.exists()):
                raise StoreError(
                    f"sqlite {gone} is gone, though the service created it at start: restore "
                    "it, or restart the service to start from an empty store"
                )
        self._local = threading.local()
        self._guard = threading.Lock()
        self._sightings = 0
        self._hit_count = 0
        self._locks = SharedFileLocks(locks)
        # One writer at a time in this process, queued on a lock: SQLite's own busy handler
        # sleeps with backoff, which under concurrent turns cost far more than the writes.
        # Between processes (workers), SQLite's locking and busy timeout do it: an fcntl lock
        # here as well cost more replies per second than the rare busy wait it saved.
        self._writer = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        # Only the store's first connection may create the file: a thread's own connection,
        # opened later, must not begin an empty database where the real one was deleted.
        self._uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        with self._errors("open"):
            connection = self._connection()
            connection.executescript(_SCHEMA)
        self._uri = f"{path.resolve().as_uri()}?mode=rw"
        self._locks.open()  # fails here, at start, when the directory is not writable
        self._files = {f: _identity(f) for f in (path, locks)}
        self._reported: str | None = None  # the trouble last logged, until it clears

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # One connection per thread; check_same_thread=False only so close() can run
            # from the thread that shuts the store down.
            with self._errors("open"):  # every sqlite3 error is a StoreError, this one too
                connection = sqlite3.connect(
                    self._uri,
                    uri=True,
                    timeout=5.0,
                    isolation_level=None,
                    check_same_thread=False,
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._guard:
                self._connections.append(connection)
        return connection

    def _errors(self, action: str) -> _Translate:
        return _Translate(f"sqlite {self.path}: cannot {action}")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, queued behind the other writers of this process."""
        connection = self._connection()
        with self._writer, self._errors("write"):
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def lock(self, key: ConversationKey) -> contextlib.AbstractContextManager[None]:
        return self._locks(key)

    def load(self, key: ConversationKey) -> Stored | None:
        with self._errors("read"):
            row = (
                self._connection()
                .execute(
                    "SELECT data, version FROM conversations WHERE key = ?", (key.as_string(),)
                )
                .fetchone()
            )
        if row is None:
            return None
        return Stored(json.loads(row[0]), int(row[1]))

    def load_counted(
        self, key: ConversationKey, name: str, window_seconds: int
    ) -> tuple[Stored | None, int]:
        # One statement: each read transaction on a connection whose pages another one has
        # written since costs its locks and page reads again.
        slot = int(time.time() // window_seconds)
        with self._errors("read"):
            data, version, count = (
                self._connection()
                .execute(
                    "SELECT c.data, c.version, h.count FROM (SELECT 1) "
                    "LEFT JOIN conversations c ON c.key = ? "
                    "LEFT JOIN hits h ON h.name = ? AND h.slot = ?",
                    (key.as_string(), name, slot),
                )
                .fetchone()
            )
        stored = None if data is None else Stored(json.loads(data), int(version))
        return stored, int(count or 0)

    def save(self, key: ConversationKey, data: JSON, expected_version: int) -> int:
        text = json.dumps(data, separators=(",", ":"))
        # One statement, so one implicit transaction: the version check and the write are
        # atomic without BEGIN/COMMIT. Each sqlite3 call releases the GIL and must win it
        # back, so under load three calls held the writer lock three times as long.
        if expected_version == 0:
            sql = "INSERT OR IGNORE INTO conversations VALUES (?, ?, 1, ?)"
            args: tuple[object, ...] = (key.as_string(), text, time.time())
        else:
            sql = (
                "UPDATE conversations SET data = ?, version = version + 1, updated_at = ? "
                "WHERE key = ? AND version = ?"
            )
            args = (text, time.time(), key.as_string(), expected_version)
        connection = self._connection()
        with self._writer, self._errors("write"):
            changed = connection.execute(sql, args).rowcount
        if changed != 1:
            raise StaleStateError(f"{key.as_string()}: not at version {expected_version}")
        return expected_version + 1

    def delete(self, key: ConversationKey) -> None:
        with self._writer, self._errors("write"):
            self._connection().execute(
                "DELETE FROM conversations WHERE key = ?", (key.as_string(),)
            )

    def inbox_add(
        self, entry_id: str, data: JSON, *, lease_seconds: float, dedupe_seconds: float
    ) -> bool:
        now = time.time()
        text = json.dumps(data, separators=(",", ":"))
        with self._writing() as connection:
            # Inserted, or an expired sighting renewed: 1 row. A fresh sighting: 0 rows.
            first = connection.execute(
                "INSERT INTO deliveries VALUES (?, ?) ON CONFLICT (id) DO UPDATE "
                "SET seen_at = excluded.seen_at WHERE deliveries.seen_at <= ?",
                (entry_id, now, now - dedupe_seconds),
            ).rowcount
            if first == 1:
                connection.execute(
                    "INSERT OR REPLACE INTO inbox VALUES (?, ?, ?, ?)",
                    (entry_id, text, now + lease_seconds, 1 if lease_seconds > 0 else 0),
                )
            self._sightings += 1
            if self._sightings % 1000 == 1:  # now and then, forget what has expired
                connection.execute(
                    "DELETE FROM deliveries WHERE seen_at < ?", (now - dedupe_seconds,)
                )
        return first == 1

    def inbox_claim(self, lease_seconds: float, limit: int) -> list[Entry]:
        now = time.time()
        with self._writing() as connection:
            rows = connection.execute(
                "UPDATE inbox SET lease_until = ?, attempts = attempts + 1 WHERE id IN "
                "(SELECT id FROM inbox WHERE lease_until <= ? ORDER BY lease_until LIMIT ?) "
                "RETURNING id, data, attempts",
                (now + lease_seconds, now, limit),
            ).fetchall()
        return [Entry(str(i), json.loads(d), int(a)) for i, d, a in rows]

    def inbox_renew(self, entry_ids: Sequence[str], lease_seconds: float) -> None:
        until = time.time() + lease_seconds
        with self._writing() as connection:
            connection.executemany(
                "UPDATE inbox SET lease_until = ? WHERE id = ?", [(until, i) for i in entry_ids]
            )

    def inbox_done(self, entry_id: str) -> None:
        with self._writer, self._errors("write"):
            self._connection().execute("DELETE FROM inbox WHERE id = ?", (entry_id,))

    def inbox_depth(self) -> int:
        with self._errors("read"):
            ((count,),) = self._connection().execute("SELECT COUNT(*) FROM inbox").fetchall()
        return int(count)

    def hit(self, name: str, window_seconds: int) -> int:
        # A row, not a count in this process: the workers sharing the file share the limit.
        now = time.time()
        slot = int(now // window_seconds)
        connection = self._connection()
        with self._writer, self._errors("write"):
            ((count,),) = connection.execute(
                "INSERT INTO hits VALUES (?, ?, 1, ?) ON CONFLICT (name) DO UPDATE SET "
                "count = CASE WHEN hits.slot = excluded.slot THEN hits.count + 1 ELSE 1 END, "
                "slot = excluded.slot, until = excluded.until RETURNING count",
                (name, slot, (slot + 1) * window_seconds),
            ).fetchall()
            self._hit_count += 1
            if self._hit_count % 1000 == 1:  # now and then, forget the windows that are over
                connection.execute("DELETE FROM hits WHERE until < ?", (now,))
        return int(count)

    def hit_count(self, name: str, window_seconds: int) -> int:
        slot = int(time.time() // window_seconds)
        with self._errors("read"):
            row = (
                self._connection()
                .execute("SELECT count FROM hits WHERE name = ? AND slot = ?", (name, slot))
                .fetchone()
            )
        return int(row[0]) if row else 0

    def add_events(self, events: Sequence[JSON]) -> None:
        rows = [(float(e["at"]), json.dumps(e, separators=(",", ":"))) for e in events]
        with self._writing() as connection:
            connection.executemany("INSERT INTO events (at, data) VALUES (?, ?)", rows)

    def events_since(self, since: float) -> list[JSON]:
        with self._errors("read"):
            rows = self._connection().execute(
                "SELECT data FROM events WHERE at >= ? ORDER BY at, seq", (since,)
            )
            return [json.loads(row[0]) for row in rows]

    def put_vote(self, key: str, vote: JSON) -> JSON | None:
        text = json.dumps(vote, separators=(",", ":"))
        with self._writing() as connection:
            row = connection.execute("SELECT data FROM votes WHERE key = ?", (key,)).fetchone()
            connection.execute(
                "INSERT OR REPLACE INTO votes VALUES (?, ?, ?)", (key, float(vote["at"]), text)
            )
        return json.loads(row[0]) if row else None

    def votes_since(self, since: float) -> list[JSON]:
        with self._errors("read"):
            rows = self._connection().execute("SELECT data FROM votes WHERE at >= ?", (since,))
            return [json.loads(row[0]) for row in rows]

    def purge_events(self, before: float) -> int:
        with self._writing() as connection:
            removed = connection.execute("DELETE FROM events WHERE at < ?", (before,)).rowcount
            removed += connection.execute("DELETE FROM votes WHERE at < ?", (before,)).rowcount
        return int(removed)

    def ping(self) -> bool:
        """The files are still the ones opened at start, and a write goes through (a full
        disk or a read-only mount fails it). Trouble is logged once, when it starts."""
        changed = [path for path, seen in self._files.items() if _identity(path) != seen]
        if changed:
            return self._trouble(
                f"sqlite {changed[0]} was deleted or replaced under the running service: "
                "restore it, or restart the service to start from an empty store"
            )
        try:
            with self._writing() as connection:
                connection.execute(
                    "INSERT OR REPLACE INTO health (id, at) VALUES (1, ?)", (time.time(),)
                )
        except StoreError as error:
            return self._trouble(f"the store cannot write: {error}")
        self._reported = None
        return True

    def _trouble(self, message: str) -> bool:
        if message != self._reported:
            self._reported = message
            log.error("%s", message)
        return False

    def close(self) -> None:
        with self._guard:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
        self._locks.close()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class _Translate:
    """sqlite3 errors become StoreError with a message naming the file and the action."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if isinstance(error, sqlite3.Error):
            raise StoreError(f"{self.message}: {error}") from error
