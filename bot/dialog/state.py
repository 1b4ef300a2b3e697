"""A conversation's state, as stored: plain JSON, so every store backend round-trips it.

Everything derivable (the next question, the verdict) is computed from `answers` and the dialog,
never stored, so a dialog.yaml edit cannot leave a stored conversation inconsistent.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Phase = Literal["idle", "asking", "done"]
# How a factor got its answer: from the story, as the answer to its question, inferred from
# another answer, or "noted" when given while another question was pending.
Source = Literal["story", "answer", "inferred", "noted"]


class DialogState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phase: Phase = "idle"
    # Names one run of the dialog, from start to verdict, for the usage record's funnel.
    dialog: str = ""
    # factor -> option id; None means the user skipped it (unknown).
    answers: dict[str, str | None] = Field(default_factory=dict)
    sources: dict[str, Source] = Field(default_factory=dict)
    # Factors in the order they were filled, so `back` can walk them in reverse.
    history: list[str] = Field(default_factory=list)
    pending: str | None = None
    # The factors asked as questions in this run of the dialog, in order: the counter's source.
    asked: list[str] = Field(default_factory=list)
    misses: int = 0
    # The user asked to answer every question, even those that cannot change the verdict.
    go_on: bool = False
    # The framework a codebase already runs on, from the story: the verdict speaks to it.
    existing: str | None = None
    # Facts offered as "did you mean" outside a dialog; a number picks one.
    suggested: list[str] = Field(default_factory=list)
    # The fact answered last: a follow-up ("and flask?", "why?") is read against it.
    last_fact: str | None = None
    # The last deliveries handled: saved with the state they produced, so a redelivery that
    # reaches another replica (even after the first one died mid-turn) is recognised exactly.
    deliveries: list[str] = Field(default_factory=list)
    # Posts of the current turn not yet confirmed delivered (see bot.core.delivery).
    outbox: list[dict[str, Any]] = Field(default_factory=list)
    outbox_turn: str = ""
    # Seconds since the epoch, from the clock the Advisor was given.
    updated_at: float = 0.0

    def seen(self, delivery: str | None) -> bool:
        """Whether this delivery (an event_id, a click's action_ts) was handled already."""
        return delivery is not None and (
            _mark(delivery) in self.deliveries or delivery in self.deliveries  # older, raw
        )

    def remember(self, delivery: str, keep: int) -> None:
        self.deliveries = [*self.deliveries, _mark(delivery)][-keep:]

    def put_away(self) -> None:
        """The dialog ends unfinished (cancelled, timed out): back to answering questions."""
        self.phase, self.pending, self.misses, self.go_on = "idle", None, 0, False
        self.answers, self.sources, self.history, self.asked = {}, {}, [], []
        self.existing = None

    def forget(self, factor: str) -> None:
        self.answers.pop(factor, None)
        self.sources.pop(factor, None)
        if factor in self.history:
            self.history.remove(factor)


def _mark(delivery: str) -> str:
    """A delivery id as kept: 12 hex digits instead of up to 40 characters, because every
    conversation keeps several and Redis holds them all (collisions among a conversation's
    last few are a 1-in-10^13 matter)."""
    return hashlib.blake2b(delivery.encode(), digest_size=6).hexdigest()
