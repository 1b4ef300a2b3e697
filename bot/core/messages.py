"""What goes into the advisor and what comes out, independent of Slack or a terminal.

Adapters translate their transport into an Inbound and each Reply into their own format; the
core never knows which transport it serves, so both behave the same by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.kb.models import Fact

if TYPE_CHECKING:
    from bot.dialog.scoring import Recommendation

ReplyKind = Literal["fact", "did_you_mean", "no_match", "question", "verdict", "info", "talk"]
# How much of a fact a reply shows: all of it, one framework's side (a follow-up such as "and
# flask?"), or its reasoning in more depth ("why?").
Focus = Literal["full", "flask", "fastapi", "more"]


@dataclass(frozen=True)
class Choice:
    """A button click: an option of a factor, or a skip (option None)."""

    factor: str
    option: str | None


@dataclass(frozen=True)
class Inbound:
    text: str = ""
    choice: Choice | None = None
    # Identifies one delivery (Slack's event_id, a click's action_ts): a repeat is ignored.
    delivery: str | None = None


@dataclass(frozen=True)
class OptionView:
    id: str
    label: str


@dataclass(frozen=True)
class QuestionView:
    factor: str
    prompt: str
    options: tuple[OptionView, ...]
    why: str
    number: int  # this is question `number` of `total` the user will be asked
    total: int
    numbered_only: bool = False  # after two unintelligible answers: just the numbered list


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    text: str
    fact: Fact | None = None
    suggestions: tuple[Fact, ...] = ()
    question: QuestionView | None = None
    recommendation: Recommendation | None = None
    focus: Focus = "full"
    extras: dict[str, object] = field(default_factory=dict)
