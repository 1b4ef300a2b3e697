"""Bytes per conversation and per-turn latency of the SQLite and Redis stores, each holding
many conversations (100,000 by default)."""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.bench.stats import summary_ms
from bot.store.base import ConversationKey, StateStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

Progress = Callable[[str], None]


def typical_state() -> dict[str, Any]:
    """A conversation in the middle of a recommendation, as the Advisor stores it."""
    return {
        "phase": "asking",
        "dialog": "3f9a1c2e",
        "answers": {"app_kind": "ml_model", "concurrency": "high", "validation_docs": "needed"},
        "sources": {"app_kind": "story", "concurrency": "story", "validation_docs": "answer"},
        "history": ["app_kind", "concurrency", "validation_docs"],
        "pending": "async_familiarity",
        "updated_at": 1_764_000_000.123456,
        # Eight is the most a conversation remembers (bot.core.advisor), as 12-digit marks.
        "deliveries": [f"{n:012x}" for n in range(0x3F1A2B4C5D00, 0x3F1A2B4C5D08)],
    }


def _key(n: int) -> ConversationKey:
    return ConversationKey("dm", "T0123ABCD", f"D{n:09d}", f"1764000000.{n:06d}", f"U{n:09d}")


def _turns(store: StateStore, conversations: int, turns: int) -> list[float]:
    rng = random.Random(3)
    seconds = []
    for _ in range(turns):
        key = _key(rng.randrange(conversations))
        begin = time.perf_counter()
        with store.transaction(key) as stored:
            data = stored.data if stored else typical_state()
            store.save(key, data, stored.version if stored else 0)
        seconds.append(time.perf_counter() - begin)
    return seconds


def sqlite(conversations: int, turns: int, progress: Progress) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "advisor.sqlite3"
        store = SQLiteStore(path)
        state = typical_state()
        for n in range(conversations):
            store.save(_key(n), state, 0)
            if n % 20_000 == 0:
                progress(f"sqlite {n:,}/{conversations:,}")
        connection = store._connection()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        latency = _turns(store, conversations, turns)
        store.close()
    return {"bytes_per_conversation": round(size / conversations), **_ms(latency)}


def redis_store(url: str, conversations: int, turns: int, progress: Progress) -> dict[str, float]:
    store = RedisStore.from_url(url)
    client = store.client
    client.flushdb()
    try:
        before = int(client.info("memory")["used_memory"])
        text = json.dumps(typical_state(), separators=(",", ":"))
        pipe = client.pipeline(transaction=False)
        for n in range(conversations):  # the layout RedisStore.save writes, loaded in bulk
            key = f"advisor:conv:{_key(n).as_string()}"
            pipe.hset(key, mapping={"data": text, "v": 1})
            pipe.expire(key, store.conversation_ttl)
            if n % 5_000 == 4_999:
                pipe.execute()
                if n % 20_000 == 19_999:
                    progress(f"redis {n + 1:,}/{conversations:,}")
        pipe.execute()
        used = int(client.info("memory")["used_memory"]) - before
        sample = client.memory_usage(f"advisor:conv:{_key(0).as_string()}") or 0
        latency = _turns(store, conversations, turns)
        return {
            "bytes_per_conversation": round(used / conversations),
            "memory_usage_of_one_key": int(sample),
            **_ms(latency),
        }
    finally:
        client.flushdb()
        client.close()


def _ms(seconds: list[float]) -> dict[str, float]:
    summary = summary_ms(seconds)
    return {"turn_p50_ms": summary["p50"], "turn_p99_ms": summary["p99"]}
