"""Keeps the usage record: buffers events, writes them in batches, enforces retention, votes.

The record must never cost a user an answer: a store failure here is logged and the events
are kept for the next attempt (up to a bound), never raised into a conversation. Events are
written in batches, off the request path when `flush_interval` is set (`advisor serve`): one
transaction per second instead of one per message.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import StoreError
from bot.insights.events import (
    JSON,
    Privacy,
    Subject,
    Turn,
    chosen_event,
    message_event,
    turn_events,
)
from bot.settings import Settings
from bot.store.base import ConversationKey, StateStore

log = logging.getLogger("bot.insights")

DAY = 86_400.0
_MAX_BUFFERED = 10_000  # while the store is down: beyond this, the oldest events are dropped
_PURGE_EVERY = 600.0

VoteOutcome = Literal["recorded", "changed", "unchanged"]


@dataclass(frozen=True)
class RecordSettings:
    privacy: Privacy = field(default_factory=lambda: Privacy(salt=secrets.token_bytes(16)))
    retention_days: int = 30
    # Seconds events may wait in memory before they are written; 0 writes each turn at once.
    flush_interval: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, flush_interval: float = 0.0) -> RecordSettings:
        """The operator's choices. Without a salt of its own, the signing secret serves: every
        replica has it and no one outside does. With neither (chat), a random one."""
        salt = settings.hash_salt or settings.slack_signing_secret
        privacy = Privacy(
            record_questions=settings.record_questions,
            salt=salt.encode() if salt else secrets.token_bytes(16),
        )
        return cls(privacy, settings.retention_days, flush_interval)


@dataclass(frozen=True)
class Vote:
    """A 👍 (+1) or 👎 (-1) on one message: a fact answer or a verdict."""

    message: str  # names the message: its channel and timestamp in Slack, a turn in chat
    team: str
    user: str
    surface: str
    subject: Subject
    ident: str  # the fact id, or the framework a verdict chose
    value: Literal[1, -1]


class Recorder:
    def __init__(
        self,
        store: StateStore,
        settings: RecordSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings or RecordSettings()
        self.clock = clock
        self._buffer: list[JSON] = []
        self._guard = threading.Lock()
        self._flushing = threading.Lock()
        self._purged_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def privacy(self) -> Privacy:
        return self.settings.privacy

    # -- what is recorded --------------------------------------------------------------------

    def turn(self, turn: Turn) -> None:
        self._add(turn_events(turn, self.privacy, self.clock()))

    def other(self, surface: str) -> None:
        """A message answered without a conversation (`/advisor help`, `/advisor compare`)."""
        self._add([message_event(self.clock(), surface, "other")])

    def chosen(self, key: ConversationKey, fact: str, candidates: Sequence[str]) -> None:
        self._add([chosen_event(key, fact, candidates, self.clock())])

    def vote(self, vote: Vote) -> VoteOutcome:
        """Record a vote: once per user per message, a second click replaces the first."""
        voter = self.privacy.hashed(vote.team, vote.user)
        record: JSON = {
            "at": self.clock(),
            "surface": vote.surface,
            "subject": vote.subject,
            "id": vote.ident,
            "vote": vote.value,
        }
        previous = self.store.put_vote(f"{vote.message}:{voter}", record)
        if previous is None:
            return "recorded"
        return "unchanged" if previous.get("vote") == vote.value else "changed"

    # -- writing -----------------------------------------------------------------------------

    def _add(self, events: list[JSON]) -> None:
        with self._guard:
            self._buffer.extend(events)
            if len(self._buffer) > _MAX_BUFFERED:
                dropped = len(self._buffer) - _MAX_BUFFERED
                del self._buffer[:dropped]
                log.warning("usage record: dropped %d events the store could not take", dropped)
        if self.settings.flush_interval <= 0:
            self.flush()
        elif self._thread is None:
            self._start_flusher()

    def _start_flusher(self) -> None:
        with self._guard:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._flush_periodically, name="advisor-record", daemon=True
            )
            self._thread.start()

    def _flush_periodically(self) -> None:
        while not self._stop.wait(self.settings.flush_interval):
            try:
                self.flush()
            except Exception:  # the writer never dies: the batch is kept, the next round retries
                log.exception("usage record: a write failed unexpectedly")

    def flush(self) -> None:
        """Write what is buffered (and, now and then, forget what is past retention)."""
        with self._flushing:
            with self._guard:
                batch, self._buffer = self._buffer, []
            try:
                if batch:
                    self.store.add_events(batch)
            except Exception as exc:  # a StoreError, or a fault no one foresaw: kept either way
                log.warning("usage record: cannot write %d events yet: %s", len(batch), exc)
                with self._guard:
                    self._buffer[:0] = batch  # kept for the next attempt, written once
                return
            if self.clock() - self._purged_at > _PURGE_EVERY:
                try:
                    self.purge()
                except StoreError as exc:
                    log.warning("usage record: cannot enforce retention yet: %s", exc)

    def purge(self) -> int:
        """Forget events and votes older than the retention period."""
        now = self.clock()
        removed = self.store.purge_events(now - self.settings.retention_days * DAY)
        self._purged_at = now
        return removed

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
