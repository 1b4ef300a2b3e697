"""The usage record at scale: what `advisor stats` costs over a month of a large workspace's
events, and what each event costs in the SQLite file and in Redis."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.insights.render import render
from bot.insights.report import summarise
from bot.kb.loader import KnowledgeBase
from bot.store.base import StateStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

Progress = Callable[[str], None]
_WORDS = [
    "how",
    "do",
    "i",
    "fastapi",
    "flask",
    "deploy",
    "docker",
    "celery",
    "graphql",
    "django",
    "auth",
    "jwt",
    "orm",
]


def seeded_events(kb: KnowledgeBase, count: int, seed: int = 5) -> list[dict[str, Any]]:
    """A plausible mix: mostly answered questions, a tenth unanswered with their text (from a
    few thousand distinct wordings), and dialogs that start, progress, and end or stop."""
    rng = random.Random(seed)
    facts, factors = list(kb.facts), list(kb.dialog.order)
    wordings = [" ".join(rng.choices(_WORDS, k=rng.randint(3, 8))) for _ in range(3000)]
    now, events = time.time(), []
    for n in range(count):
        at = now - rng.uniform(0, 30 * 86_400)
        roll = rng.random()
        if roll < 0.7:
            events.append(
                {
                    "at": at,
                    "type": "message",
                    "surface": "dm",
                    "band": "answered",
                    "fact": rng.choice(facts),
                }
            )
        elif roll < 0.8:
            band = rng.choice(["no_match", "did_you_mean"])
            events.append(
                {
                    "at": at,
                    "type": "message",
                    "surface": "mention",
                    "band": band,
                    "fact": "none",
                    "text": rng.choice(wordings),
                    "user": f"{n:016x}",
                }
            )
        else:
            dialog = f"{n:08x}"
            kind = rng.choice(["start", "question", "finish", "cancel"])
            events.append(
                {
                    "at": at,
                    "type": kind,
                    "surface": "dm",
                    "dialog": dialog,
                    "factor": rng.choice(factors),
                    "framework": "fastapi",
                }
            )
    return events


def _stats_seconds(store: StateStore, kb: KnowledgeBase) -> float:
    began = time.perf_counter()
    until = time.time()
    since = until - 30 * 86_400
    render(summarise(kb, store.events_since(since), store.votes_since(since), since, until))
    return time.perf_counter() - began


def usage_record(
    kb: KnowledgeBase, count: int, redis_url: str, progress: Progress
) -> dict[str, float]:
    events = seeded_events(kb, count)
    progress(f"usage record: {count:,} events")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "advisor.sqlite3"
        store = SQLiteStore(path)
        for start in range(0, count, 1000):
            store.add_events(events[start : start + 1000])
        store.close()  # the last connection to close folds the WAL into the file
        size = path.stat().st_size
        store = SQLiteStore(path)
        seconds = _stats_seconds(store, kb)
        store.close()
    redis = RedisStore.from_url(redis_url)
    try:
        redis.client.flushdb()
        for start in range(0, count, 1000):
            redis.add_events(events[start : start + 1000])
        used = int(redis.client.memory_usage(f"{redis.prefix}events", samples=0) or 0)
        redis.client.flushdb()
    finally:
        redis.close()
    return {
        "events": count,
        "stats_s": round(seconds, 2),
        "sqlite_bytes_per_event": round(size / count),
        "redis_bytes_per_event": round(used / count),
    }
