"""One contract, three backends (after aiogram's tests/test_fsm/storage/test_storages.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.errors import StaleStateError
from bot.store import open_store
from bot.store.base import ConversationKey, StateStore
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

KEY = ConversationKey("dm", "T1", "D1", "1700000000.000100", "U1")
OTHER = ConversationKey("dm", "T1", "D1", "1700000000.000100", "U2")

VALUES = [
    {},
    {"phase": "asking", "answers": {"app_kind": "api", "concurrency": None}, "misses": 2},
    {"unicode": "héllo 👋 عربى", "nested": [1, 2.5, True, None, {"x": []}], "big": 10**15},
]


@pytest.mark.parametrize("value", VALUES)
def test_json_values_round_trip(store: StateStore, value: dict[str, object]) -> None:
    assert store.load(KEY) is None
    assert store.save(KEY, value, 0) == 1
    loaded = store.load(KEY)
    assert loaded is not None
    assert loaded.data == value
    assert loaded.version == 1


def test_versions_advance_and_stale_saves_are_refused(store: StateStore) -> None:
    store.save(KEY, {"n": 1}, 0)
    store.save(KEY, {"n": 2}, 1)
    with pytest.raises(StaleStateError):
        store.save(KEY, {"n": "late"}, 1)
    with pytest.raises(StaleStateError):
        store.save(KEY, {"n": "new?"}, 0)
    loaded = store.load(KEY)
    assert loaded is not None
    assert (loaded.data, loaded.version) == ({"n": 2}, 2)


def test_keys_are_independent_and_delete_forgets(store: StateStore) -> None:
    store.save(KEY, {"who": "u1"}, 0)
    store.save(OTHER, {"who": "u2"}, 0)
    store.delete(KEY)
    assert store.load(KEY) is None
    other = store.load(OTHER)
    assert other is not None
    assert other.data == {"who": "u2"}
    assert store.save(KEY, {"again": True}, 0) == 1


def test_loaded_values_are_copies(store: StateStore) -> None:
    store.save(KEY, {"answers": {"a": 1}}, 0)
    loaded = store.load(KEY)
    assert loaded is not None
    loaded.data["answers"]["a"] = 99
    again = store.load(KEY)
    assert again is not None
    assert again.data == {"answers": {"a": 1}}


def _add(store: StateStore, entry_id: str, lease: float = 30, dedupe: float = 60) -> bool:
    return store.inbox_add(entry_id, {"body": entry_id}, lease_seconds=lease, dedupe_seconds=dedupe)


def test_a_delivery_enters_the_inbox_once_within_its_dedupe_window(store: StateStore) -> None:
    assert _add(store, "event:Ev1") is True
    assert _add(store, "event:Ev1") is False
    assert _add(store, "event:Ev2") is True
    assert store.inbox_depth() == 2
    store.inbox_done("event:Ev1")
    assert _add(store, "event:Ev1") is False  # handled, and still recognised as a repeat
    assert store.inbox_depth() == 1
    assert _add(store, "short", dedupe=1) is True
    time.sleep(1.1)
    assert _add(store, "short", dedupe=1) is True


def test_only_entries_whose_lease_ran_out_are_claimed_and_then_leased_anew(
    store: StateStore,
) -> None:
    _add(store, "held", lease=30)
    _add(store, "queued", lease=0)
    _add(store, "dying", lease=0.3)
    claimed = store.inbox_claim(lease_seconds=30, limit=10)
    assert [(e.id, e.data, e.attempts) for e in claimed] == [("queued", {"body": "queued"}, 1)]
    time.sleep(0.4)
    claimed = store.inbox_claim(lease_seconds=30, limit=10)
    assert [(e.id, e.attempts) for e in claimed] == [("dying", 2)]
    assert store.inbox_claim(lease_seconds=30, limit=10) == []
    store.inbox_renew(["held"], 0)  # handed back
    assert [e.id for e in store.inbox_claim(lease_seconds=0.3, limit=10)] == ["held"]
    store.inbox_renew(["held"], 30)  # renewed by its new holder
    time.sleep(0.4)
    assert store.inbox_claim(lease_seconds=30, limit=10) == []


def test_claims_respect_the_limit_and_take_the_longest_due_first(store: StateStore) -> None:
    for n in range(5):
        _add(store, f"e{n}", lease=0)
        time.sleep(0.01)
    first = store.inbox_claim(lease_seconds=30, limit=2)
    rest = store.inbox_claim(lease_seconds=30, limit=10)
    assert [e.id for e in first] == ["e0", "e1"]
    assert sorted(e.id for e in rest) == ["e2", "e3", "e4"]


def test_a_finished_entry_is_never_claimed_or_renewed_back(store: StateStore) -> None:
    _add(store, "x", lease=0)
    store.inbox_done("x")
    store.inbox_renew(["x"], 0)
    assert store.inbox_claim(lease_seconds=30, limit=10) == []
    assert store.inbox_depth() == 0


def test_two_claimers_never_take_the_same_entry(store: StateStore) -> None:
    for n in range(40):
        _add(store, f"e{n}", lease=0)
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: store.inbox_claim(30, 7), range(12)))
    taken = [e.id for batch in batches for e in batch]
    assert sorted(taken) == sorted(f"e{n}" for n in range(40))


def test_ping(store: StateStore) -> None:
    assert store.ping() is True


def test_lock_then_load_never_loses_an_update(store: StateStore) -> None:
    """Forty writers increment one counter: with the lock held around load+save, none is lost."""
    store.save(KEY, {"count": 0}, 0)

    def increment() -> None:
        with store.transaction(KEY) as stored:
            assert stored is not None
            time.sleep(0.001)  # widen the window a missing lock would lose updates in
            store.save(KEY, {"count": stored.data["count"] + 1}, stored.version)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(increment) for _ in range(40)]:
            future.result()
    loaded = store.load(KEY)
    assert loaded is not None
    assert loaded.data == {"count": 40}
    assert loaded.version == 41


def test_the_lock_excludes_only_its_own_key(store: StateStore) -> None:
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.lock(KEY):
            inside.set()
            release.wait(5)

    # In-process stores share a fixed set of locks among keys: take a key on another one.
    other = next(
        candidate
        for n in range(10_000)
        if store.lock(candidate := ConversationKey("dm", "T1", "D1", "1.1", f"U{n}"))
        is not store.lock(KEY)
    )
    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    started = time.monotonic()
    with store.lock(other):
        pass  # another conversation is not blocked
    assert time.monotonic() - started < 1.0
    release.set()
    holder.join()


def test_open_store_urls(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    sqlite = open_store(f"sqlite:///{tmp_path}/x/advisor.db")
    assert isinstance(sqlite, SQLiteStore)
    assert sqlite.path == tmp_path / "x" / "advisor.db"
    assert isinstance(open_store(redis_url), RedisStore)


def test_hits_count_within_a_window_per_name(store: StateStore) -> None:
    assert [store.hit("user:U1", 60) for _ in range(3)] == [1, 2, 3]
    assert store.hit("user:U2", 60) == 1
    first = store.hit("short", 1)
    time.sleep(1.05)
    assert store.hit("short", 1) <= first  # a new window starts from one again


def test_load_counted_reads_the_state_and_the_count_together(store: StateStore) -> None:
    key = ConversationKey("dm", "T1", "D9", "", "U9")
    assert store.load_counted(key, "user:U9", 60) == (None, 0)
    store.save(key, {"phase": "asking"}, 0)
    store.hit("user:U9", 60)
    store.hit("user:U9", 60)
    stored, count = store.load_counted(key, "user:U9", 60)
    assert stored is not None
    assert (stored.data, stored.version, count) == ({"phase": "asking"}, 1, 2)
    assert store.load_counted(key, "user:U8", 60)[1] == 0


def test_hit_count_reads_without_counting(store: StateStore) -> None:
    assert store.hit_count("user:U3", 60) == 0
    store.hit("user:U3", 60)
    store.hit("user:U3", 60)
    assert [store.hit_count("user:U3", 60) for _ in range(3)] == [2, 2, 2]
    assert store.hit("user:U3", 60) == 3
    assert store.hit_count("user:U4", 60) == 0


# -- the usage record: events and votes ----------------------------------------------------


def test_events_come_back_in_time_order_and_from_a_cut_off(store: StateStore) -> None:
    store.add_events([{"at": 30.0, "type": "message", "band": "answered"}])
    store.add_events(
        [
            {"at": 10.0, "type": "message", "band": "no_match", "text": "héllo 👋"},
            {"at": 20.0, "type": "start", "dialog": "d1"},
        ]
    )
    store.add_events([])
    assert [e["at"] for e in store.events_since(0)] == [10.0, 20.0, 30.0]
    assert store.events_since(0)[0] == {
        "at": 10.0,
        "type": "message",
        "band": "no_match",
        "text": "héllo 👋",
    }
    assert [e["type"] for e in store.events_since(20.0)] == ["start", "message"]
    assert store.events_since(31.0) == []


def test_equal_events_are_all_kept(store: StateStore) -> None:
    same = {"at": 5.0, "type": "message", "band": "answered", "fact": "performance"}
    store.add_events([same, same])
    store.add_events([same])
    assert store.events_since(0) == [same, same, same]


def test_a_second_vote_under_one_key_replaces_the_first(store: StateStore) -> None:
    first = {"at": 1.0, "subject": "fact", "id": "performance", "vote": 1}
    assert store.put_vote("C1:1.0:u1", first) is None
    changed = {**first, "at": 2.0, "vote": -1}
    assert store.put_vote("C1:1.0:u1", changed) == first
    assert store.put_vote("C1:1.0:u2", {**first, "at": 3.0}) is None
    votes = sorted(store.votes_since(0), key=lambda v: v["at"])
    assert votes == [changed, {**first, "at": 3.0}]
    assert store.votes_since(2.5) == [{**first, "at": 3.0}]


def test_purge_forgets_only_what_is_older_than_the_cut_off(store: StateStore) -> None:
    store.add_events([{"at": float(t), "type": "message"} for t in (1, 2, 3, 4)])
    store.put_vote("old", {"at": 1.0, "vote": 1})
    store.put_vote("new", {"at": 4.0, "vote": -1})
    assert store.purge_events(3.0) == 3  # two events and one vote
    assert [e["at"] for e in store.events_since(0)] == [3.0, 4.0]
    assert store.votes_since(0) == [{"at": 4.0, "vote": -1}]
    assert store.put_vote("old", {"at": 5.0, "vote": 1}) is None  # forgotten, so a new vote
    assert store.purge_events(3.0) == 0
