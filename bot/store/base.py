"""The conversation store contract (after aiogram's fsm/storage/base.py).

A frozen key, an abstract base with a few primitives, and the rule every caller follows:
lock, then load, then save with the version that was loaded. Backends live one per module and
are reached through `open_store(url)`; only store/redis.py imports redis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class ConversationKey:
    """Who is talking, where: one dialog per (surface, team, channel, thread, user)."""

    surface: str
    team: str = ""
    channel: str = ""
    thread: str = ""
    user: str = ""

    def as_string(self) -> str:
        return ":".join((self.surface, self.team, self.channel, self.thread, self.user))


@dataclass(frozen=True)
class Stored:
    data: JSON
    version: int


@dataclass(frozen=True)
class Entry:
    """A delivery in the inbox: its id, what it carried, and how many times it was taken."""

    id: str
    data: JSON
    attempts: int


class StateStore(ABC):
    """Primitives every backend provides. Values are JSON objects."""

    @abstractmethod
    def lock(self, key: ConversationKey) -> Any:
        """A context manager held while a message of this conversation is handled."""

    @abstractmethod
    def load(self, key: ConversationKey) -> Stored | None: ...

    @abstractmethod
    def save(self, key: ConversationKey, data: JSON, expected_version: int) -> int:
        """Store `data` if the stored version is still `expected_version` (0: absent).

        Returns the new version; raises StaleStateError when another writer got there first.
        """

    @abstractmethod
    def delete(self, key: ConversationKey) -> None: ...

    @abstractmethod
    def hit(self, name: str, window_seconds: int) -> int:
        """Count one event against `name` in the current fixed window; the count so far.

        Shared by every replica on the store, so a per-user rate limit holds cluster-wide.
        """

    @abstractmethod
    def hit_count(self, name: str, window_seconds: int) -> int:
        """The count `hit` has reached in the current window, without counting: a read."""

    # -- the inbox: deliveries acknowledged and not yet handled (bot.adapters.slack.inbox) -----

    @abstractmethod
    def inbox_add(
        self, entry_id: str, data: JSON, *, lease_seconds: float, dedupe_seconds: float
    ) -> bool:
        """Record a delivery, unless `entry_id` was recorded within `dedupe_seconds`.

        One atomic write of the dedupe mark and the entry, so whatever is acknowledged is on
        record. The entry is leased for `lease_seconds` to the caller, who runs it now; 0
        leaves it to whoever claims it first. False for a repeat, which changes nothing.
        """

    @abstractmethod
    def inbox_claim(self, lease_seconds: float, limit: int) -> list[Entry]:
        """Up to `limit` entries whose lease ran out (their taker died, or none was free),
        each leased anew to the caller and its `attempts` counted."""

    @abstractmethod
    def inbox_renew(self, entry_ids: Sequence[str], lease_seconds: float) -> None:
        """Extend the leases of entries still being handled (0: hand them back at once)."""

    @abstractmethod
    def inbox_done(self, entry_id: str) -> None:
        """Forget a handled entry; its dedupe mark stays for the rest of its window."""

    @abstractmethod
    def inbox_depth(self) -> int:
        """How many entries wait or run."""

    # -- the usage record (bot.insights): events and votes, kept for a retention period --------

    @abstractmethod
    def add_events(self, events: Sequence[JSON]) -> None:
        """Append events; each carries its time as a number of seconds in `at`."""

    @abstractmethod
    def events_since(self, since: float) -> list[JSON]:
        """Events with `at` >= `since`, oldest first."""

    @abstractmethod
    def put_vote(self, key: str, vote: JSON) -> JSON | None:
        """Keep `vote` (with its `at`) under `key`, replacing and returning any earlier one.

        One key per voter per message: a second click changes the vote, never adds one.
        """

    @abstractmethod
    def votes_since(self, since: float) -> list[JSON]:
        """Votes cast (or last changed) at or after `since`."""

    @abstractmethod
    def purge_events(self, before: float) -> int:
        """Forget events and votes older than `before` (retention); how many were removed."""

    def ping(self) -> bool:
        """Whether the store can serve now (for /healthz)."""
        return True

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Release connections and files."""

    def load_counted(
        self, key: ConversationKey, name: str, window_seconds: int
    ) -> tuple[Stored | None, int]:
        """`load(key)` and `hit_count(name, window_seconds)` at once: backends read both in
        one statement or round trip (a turn with a quota needs both before its reply)."""
        return self.load(key), self.hit_count(name, window_seconds)

    @contextmanager
    def transaction(self, key: ConversationKey) -> Iterator[Stored | None]:
        """Lock, then load: the state is read only once no one else can change it."""
        with self.lock(key):
            yield self.load(key)
