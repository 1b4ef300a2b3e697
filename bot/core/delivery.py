"""Delivering a turn's replies at most once, even when a replica dies in the middle.

A transport that posts replies somewhere (Slack) hands the Advisor a Courier. The Advisor
then saves the decided state *with* the rendered posts as an outbox, sends them, and clears
the outbox. If the process dies between the two saves, whoever next takes the conversation's
lock finds the outbox, asks the courier which posts already arrived, and sends only the rest:
no question is posted twice, none is lost. If sending fails for good (Slack down after every
retry), the state is rolled back to what the user last saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bot.core.messages import Reply
from bot.dialog.state import DialogState

Post = dict[str, Any]
Save = Callable[[DialogState, int], int]  # save a state over a version; the new version

REMEMBERED = 8  # deliveries remembered per conversation: a redelivery comes within minutes


class Courier(Protocol):
    def render(self, replies: Sequence[Reply]) -> list[Post]:
        """The posts for these replies, as JSON (they are stored until delivered)."""

    def send(self, turn: str, index: int, post: Post) -> None:
        """Send one post, marked with its turn and index so `delivered` can find it later."""

    def delivered(self, turn: str, index: int, post: Post) -> bool:
        """Whether a post of an interrupted turn arrived before the interruption."""


def deliver(
    courier: Courier,
    save: Save,
    *,
    version: int,
    state: DialogState,
    before: DialogState,
    replies: Sequence[Reply],
    delivery: str | None,
) -> None:
    """Save the decided `state` with its posts owed, send them, and clear the debt; when they
    cannot be sent, roll back to `before`, the state the user last saw."""
    posts = courier.render(replies)
    turn = delivery or uuid.uuid4().hex
    if before.phase == "idle" and state.phase == "idle":
        # No dialog at stake (a fact answer): a post repeated after a crash is harmless.
        for index, post in enumerate(posts):
            courier.send(turn, index, post)
        save(state, version)
        return
    state.outbox, state.outbox_turn = posts, turn
    version = save(state, version)  # decided, and owed to the user
    try:
        for index, post in enumerate(state.outbox):
            courier.send(state.outbox_turn, index, post)
    except Exception:
        # Not delivered after every retry: back to the state the user last saw.
        save(before, version)
        raise
    state.outbox, state.outbox_turn = [], ""
    save(state, version)


def finish_interrupted(
    courier: Courier | None, save: Save, version: int, state: DialogState, unread: str | None
) -> int:
    """A process died between deciding a turn and confirming its delivery: send what did not
    arrive. `unread`, a delivery that came meanwhile, is marked handled without being read:
    it was written before its sender saw the question it would be read against."""
    if unread is not None:
        state.remember(unread, REMEMBERED)
    if courier is not None:
        for index, post in enumerate(state.outbox):
            if not courier.delivered(state.outbox_turn, index, post):
                courier.send(state.outbox_turn, index, post)
    state.outbox, state.outbox_turn = [], ""
    return save(state, version)
