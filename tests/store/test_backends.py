"""What only one backend has to prove: durability, files, key layout, lock expiry, outages."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from bot.errors import StaleStateError, StoreError
from bot.store.base import ConversationKey
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

KEY = ConversationKey("dm", "T1", "D1", "1700000000.000100", "U1")


def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "var" / "advisor.sqlite3"
    first = SQLiteStore(path)
    first.save(KEY, {"phase": "asking"}, 0)
    first.inbox_add("event:Ev1", {"n": 1}, lease_seconds=0, dedupe_seconds=3600)
    first.close()
    second = SQLiteStore(path)
    loaded = second.load(KEY)
    assert loaded is not None
    assert (loaded.data, loaded.version) == ({"phase": "asking"}, 1)
    assert second.inbox_add("event:Ev1", {}, lease_seconds=0, dedupe_seconds=3600) is False
    assert [(e.id, e.data) for e in second.inbox_claim(30, 10)] == [("event:Ev1", {"n": 1})]
    mode = second._connection().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    second.close()


def test_sqlite_opened_read_only_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "advisor.sqlite3"
    store = SQLiteStore(path)
    store.save(KEY, {"a": 1}, 0)
    store._connection().execute("PRAGMA query_only = ON")  # what a read-only mount amounts to
    with pytest.raises(StoreError, match=r"sqlite .*advisor.sqlite3: cannot write"):
        store.save(KEY, {"a": 2}, 1)
    loaded = store.load(KEY)
    assert loaded is not None
    assert loaded.data == {"a": 1}


@pytest.mark.parametrize("suffix", ["", ".locks"])
def test_sqlite_file_deleted_under_the_store(
    tmp_path: Path, suffix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleted or replaced, a file would split the store in two: the probe says unhealthy
    (logged once), and a worker started later refuses to create a new one."""
    path = tmp_path / "advisor.sqlite3"
    store = SQLiteStore(path)
    assert store.ping()
    gone = path.with_name(path.name + suffix)
    gone.unlink()
    assert not store.ping()
    assert not store.ping()
    said = [r.getMessage() for r in caplog.records if "deleted or replaced" in r.getMessage()]
    assert len(said) == 1
    assert str(gone) in said[0]
    with pytest.raises(StoreError, match="is gone"):
        SQLiteStore(path, create=False)
    gone.write_bytes(b"")  # a new, empty file in its place is not the one opened either
    assert not store.ping()
    store.close()


def test_sqlite_a_worker_joins_the_store_the_service_created(tmp_path: Path) -> None:
    path = tmp_path / "advisor.sqlite3"
    with pytest.raises(StoreError, match="is gone"):
        SQLiteStore(path, create=False)
    assert not path.exists()
    SQLiteStore(path).close()
    joined = SQLiteStore(path, create=False)
    assert joined.ping()
    joined.close()


_FULL_DISK = """
import resource, signal, sys, os
from pathlib import Path
from bot.store.sqlite import SQLiteStore
path = Path(sys.argv[1])
store = SQLiteStore(path)
print(store.ping())
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
full = max(p.stat().st_size for p in path.parent.iterdir())
resource.setrlimit(resource.RLIMIT_FSIZE, (full, resource.RLIM_INFINITY))
print(store.ping())
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print(store.ping())
"""


def test_sqlite_that_cannot_grow_is_unhealthy(tmp_path: Path) -> None:
    """A full disk, as a file size limit: no file may grow, so the probe's write fails."""
    path = tmp_path / "advisor.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["True", "False", "True"]
    assert "the store cannot write" in done.stderr


def test_sqlite_directory_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create"):
        SQLiteStore(blocker / "var" / "advisor.sqlite3")


def test_redis_key_layout_and_size(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url)
    state = {
        "phase": "asking",
        "answers": {"app_kind": "ml_model", "concurrency": "high"},
        "sources": {"app_kind": "story", "concurrency": "story"},
        "history": ["app_kind", "concurrency"],
        "pending": "validation_docs",
        "misses": 0,
        "suggested": [],
        "updated_at": 1700000000.123,
    }
    store.save(KEY, state, 0)
    store.inbox_add("event:Ev9", {"n": 1}, lease_seconds=5, dedupe_seconds=60)
    store.inbox_done("event:Ev9")
    raw = redis.Redis.from_url(redis_url)
    keys = sorted(k.decode() for k in raw.keys("*"))
    assert keys == ["advisor:conv:dm:T1:D1:1700000000.000100:U1", "advisor:delivery:event:Ev9"]
    conv = raw.hgetall(keys[0])
    assert json.loads(conv[b"data"]) == state
    assert conv[b"v"] == b"1"
    assert 0 < raw.ttl(keys[0]) <= 7 * 24 * 3600
    assert 0 < raw.ttl(keys[1]) <= 60
    assert raw.memory_usage(keys[0]) < 1024
    store.close()
    raw.close()


def test_redis_lock_of_a_dead_holder_expires_and_its_late_write_is_fenced(
    redis_url: str,
) -> None:
    dead = RedisStore.from_url(redis_url, lock_timeout=1.0)
    alive = RedisStore.from_url(redis_url, lock_timeout=1.0)
    dead.save(KEY, {"n": 0}, 0)
    lock = dead.client.lock(f"advisor:lock:{KEY.as_string()}", timeout=1.0)
    assert lock.acquire()  # the replica that holds it is then SIGKILLed: never released
    loaded_by_dead = dead.load(KEY)
    assert loaded_by_dead is not None
    started = time.monotonic()
    with alive.transaction(KEY) as stored:
        waited = time.monotonic() - started
        assert stored is not None
        alive.save(KEY, {"n": "alive"}, stored.version)
    assert 0.5 < waited < 5
    with pytest.raises(StaleStateError):  # a stalled holder waking up cannot overwrite
        dead.save(KEY, {"n": "dead"}, loaded_by_dead.version)
    final = alive.load(KEY)
    assert final is not None
    assert final.data == {"n": "alive"}
    dead.close()
    alive.close()


def test_redis_down_is_a_store_error_and_an_unhealthy_ping() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0")
    assert store.ping() is False
    with pytest.raises(StoreError, match="redis"):
        store.load(KEY)
    with pytest.raises(StoreError, match="redis"):
        store.inbox_add("x", {}, lease_seconds=1, dedupe_seconds=10)
    with pytest.raises(StoreError, match="redis"):
        store.inbox_claim(1, 1)
    store.close()


def test_redis_lock_is_renewed_while_its_holder_works_and_freed_when_it_stops(
    redis_url: str,
) -> None:
    holder = RedisStore.from_url(redis_url, lock_timeout=0.6)
    waiter = RedisStore.from_url(redis_url, lock_timeout=0.6, lock_wait=0.3)
    with holder.lock(KEY):
        time.sleep(2.0)  # more than three leases: a turn waiting on a slow Slack
        assert holder.client.pttl(f"advisor:lock:{KEY.as_string()}") > 0
        with pytest.raises(StoreError, match="timed out"), waiter.lock(KEY):
            pass  # never reached: the holder is alive and holds it
    started = time.monotonic()
    with waiter.lock(KEY):
        assert time.monotonic() - started < 0.3
    holder.close()
    waiter.close()
