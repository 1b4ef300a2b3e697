"""Conversation stores behind one contract: memory (tests, chat), SQLite (default), Redis."""

from __future__ import annotations

from pathlib import Path

from bot.errors import StoreError
from bot.store.base import ConversationKey, StateStore, Stored
from bot.store.memory import MemoryStore

__all__ = ["ConversationKey", "MemoryStore", "StateStore", "Stored", "open_store"]


def open_store(url: str, *, create: bool = True) -> StateStore:
    """The store a URL names: `memory://`, `sqlite:///relative/path`, `sqlite:////abs/path`,
    `redis://host:port/db`. Without `create`, a SQLite file that is not there is refused: a
    worker started after the service must join the store it started with, not begin another."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreError(f"store URL {url!r} has no scheme: use memory://, sqlite:/// or redis://")
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from bot.store.sqlite import SQLiteStore

        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise StoreError(f"store URL {url!r} names no file: use sqlite:///var/advisor.db")
        return SQLiteStore(Path(path), create=create)
    if scheme in {"redis", "rediss"}:
        from bot.store.redis import RedisStore

        return RedisStore.from_url(url)
    raise StoreError(f"unsupported store URL {url!r}: use memory://, sqlite:/// or redis://")
