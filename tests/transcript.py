"""Push a message, pop the reply: the real Advisor in a test (after errbot's test backend)."""

from __future__ import annotations

from bot.core.advisor import Advisor
from bot.core.messages import Choice, Inbound, Reply
from bot.dialog.state import DialogState
from bot.store.base import ConversationKey


class Transcript:
    def __init__(self, advisor: Advisor, user: str = "U1") -> None:
        self.advisor = advisor
        self.key = ConversationKey("test", "T1", "D1", "", user)
        self.replies: list[Reply] = []

    def say(self, text: str) -> list[Reply]:
        self.replies = self.advisor.handle(self.key, Inbound(text=text))
        return self.replies

    def click(self, factor: str, option: str | None) -> list[Reply]:
        self.replies = self.advisor.handle(self.key, Inbound(choice=Choice(factor, option)))
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def asking(self) -> str | None:
        """The factor of the question in the last reply, if one was asked."""
        questions = [r.question for r in self.replies if r.question is not None]
        return questions[-1].factor if questions else None

    @property
    def state(self) -> DialogState:
        return self.advisor.peek(self.key)

    def verdict(self) -> Reply:
        found = [r for r in self.replies if r.recommendation is not None]
        assert found, f"no verdict in: {self.text}"
        return found[-1]
