"""Slack's side of the usage record: a 👍 / 👎 click becomes a vote, `/advisor stats` the report.

Apart from the conversation service: a vote never touches a conversation, and the report is
for the advisor's admins, not for the people it advises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack import blocks
from bot.core import wording
from bot.core.advisor import Advisor
from bot.insights.events import Subject
from bot.insights.recorder import Vote
from bot.insights.render import render
from bot.insights.report import parse_duration, summarise

NOT_AN_ADMIN = (
    "Usage stats are for the advisor's admins. Ask whoever runs the advisor in this "
    "workspace to add you (ADVISOR_ADMINS)."
)
NOT_RECORDING = "Thanks! (This advisor keeps no usage record, so the vote was not stored.)"


@dataclass(frozen=True)
class Rating:
    """A 👍 / 👎 click, as Slack describes where it came from."""

    team: str
    user: str
    channel: str
    message_ts: str
    ephemeral: bool
    subject: Subject
    ident: str
    value: int

    @property
    def surface(self) -> str:
        if self.ephemeral:
            return "slash"
        return "dm" if self.channel.startswith("D") else "mention"


class SlackInsights:
    def __init__(self, advisor: Advisor, admins: frozenset[str] = frozenset()) -> None:
        self.advisor = advisor
        self.admins = admins

    def rate(self, rating: Rating) -> str:
        """Record a vote (once per user per message) and say what became of it. The
        conversation the message belongs to is never touched."""
        recorder = self.advisor.recorder
        if recorder is None:
            return NOT_RECORDING
        vote = Vote(
            message=f"{rating.channel}:{rating.message_ts}",
            team=rating.team,
            user=rating.user,
            surface=rating.surface,
            subject=rating.subject,
            ident=rating.ident,
            value=1 if rating.value > 0 else -1,
        )
        return wording.feedback_text(recorder.vote(vote), rating.value)

    @staticmethod
    def stats_window(command: str) -> float | None:
        """Seconds of `stats [DURATION]` (7 days by default), or None when `command` is not
        that: "stats on github stars?" is a question."""
        word, _, window = command.partition(" ")
        if word != "stats":
            return None
        try:
            return parse_duration(window.strip() or "7d")
        except ValueError:
            return None

    def stats_response(self, user: str, seconds: float) -> dict[str, Any]:
        """`/advisor stats [7d]`: the usage report, for admins only, never shared."""
        if user not in self.admins:
            return {"response_type": "ephemeral", "text": NOT_AN_ADMIN}
        recorder, store = self.advisor.recorder, self.advisor.store
        if recorder is not None:
            recorder.flush()  # what this replica still buffers belongs in the report
            recorder.purge()
        until = time.time()
        since = until - seconds
        report = summarise(
            self.advisor.kb, store.events_since(since), store.votes_since(since), since, until
        )
        message = blocks.stats_message(render(report))
        return {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks_json()}
