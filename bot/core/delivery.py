"""Delivering a turn's replies at most once, even when a replica dies in the middle.

A transport that posts replies somewhere (Slack) hands the Advisor a Courier. The Advisor
then saves the decided state *with* the rendered posts as an outbox, sends them, and clears
the outbox. If the process dies between the two saves, whoever next takes the conversation's
lock finds the outbox, asks the courier which posts already arrived, and sends only the rest:
no question is posted twice, none is lost. If sending fails for good (Slack down after every
retry), the state is rolled back to what the user last saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.core.messages import Reply

Post = dict[str, Any]


class Courier(Protocol):
    def render(self, replies: Sequence[Reply]) -> list[Post]:
        """The posts for these replies, as JSON (they are stored until delivered)."""

    def send(self, turn: str, index: int, post: Post) -> None:
        """Send one post, marked with its turn and index so `delivered` can find it later."""

    def delivered(self, turn: str, index: int, post: Post) -> bool:
        """Whether a post of an interrupted turn arrived before the interruption."""
