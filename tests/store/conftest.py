"""The three stores, real: memory, a SQLite file, and the Redis server on 127.0.0.1:6379.

Redis tests use a dedicated database number and flush it before and after; they fail, never
skip, when Redis is not there (.ci/run starts it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.store.base import StateStore
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore

REDIS_URL = os.environ.get("ADVISOR_TEST_REDIS", "redis://127.0.0.1:6379/13")


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is needed at {REDIS_URL} (make test / .ci/run start it): {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "var" / "advisor.sqlite3")
    else:
        made = RedisStore.from_url(request.getfixturevalue("redis_url"), lock_timeout=2.0)
    yield made
    made.close()
