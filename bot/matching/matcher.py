"""Find the fact a question is about, or say what else the message is and that it is not ours.

The trained model (bot.matching.model) gives every class a probability: each fact, small talk,
and the three kinds of message that are not ours to answer (another framework pair, a how-to or
debugging question, anything else). The decision reads them in one place:
- not ours when the classes that are not facts hold most of the probability;
- an answer when the best fact is probable enough and clear of the runner-up;
- otherwise "did you mean", with the facts that are close.

Scores are probabilities times 100, so a threshold in matching.yaml reads as a percentage.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.kb.loader import KnowledgeBase
from bot.matching.features import features
from bot.matching.model import MODEL_FILE, LinearModel, knowledge_digest
from bot.matching.reader import Reader
from bot.matching.slots import SlotReader

Status = Literal["answered", "did_you_mean", "no_match"]
# What a message is, when it is not a fact question: the model's classes without their prefix.
Route = Literal["fact", "talk", "other_pair", "howto", "offtopic", "empty"]

MAX_CANDIDATES = 4
_CLEARLY_OURS = 50.0  # percent: a fact this probable is asked about, whatever else is named
TALK = "talk"
OOS_PREFIX = "oos:"


@dataclass(frozen=True)
class Candidate:
    fact_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """The outcome of matching one question. "No match" is a result, not an exception."""

    status: Status
    candidates: tuple[Candidate, ...] = ()
    route: Route = "fact"

    @property
    def fact_id(self) -> str | None:
        return self.candidates[0].fact_id if self.status == "answered" else None

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0

    @property
    def alternatives(self) -> tuple[Candidate, ...]:
        """The other candidates: after the answer, or all of them when nothing was answered."""
        return self.candidates[1:] if self.status == "answered" else self.candidates

    @property
    def aspect(self) -> str | None:
        """The fact the message is most about, answered or not ("sanic or fastapi, which is
        faster?" is not ours, but it is about performance)."""
        return self.candidates[0].fact_id if self.candidates else None


def model_path(kb: KnowledgeBase) -> Path:
    return kb.directory / MODEL_FILE


def trained_on(kb: KnowledgeBase) -> list[Path]:
    """The knowledge files a model is trained from: a change to any of them makes it stale."""
    return sorted(kb.directory.glob("*.yaml"))


class Matcher:
    """Both trained readers of text, loaded once and shared: the fact model, and the slot
    reader the dialog uses for stories and replies (bot.matching.slots)."""

    def __init__(
        self, kb: KnowledgeBase, model: LinearModel | None = None, slots: SlotReader | None = None
    ) -> None:
        self.kb = kb
        self.config = kb.matching
        if model is None:
            model = LinearModel.load(model_path(kb), knowledge_digest(trained_on(kb)))
        self.model = model
        self.slots = slots or SlotReader.load(kb, trained_on(kb))
        self.reader = Reader(kb.matching, known_words=model.vocabulary)
        self._facts = set(kb.facts)
        # Class positions, facts in alphabetical order: a tie between two facts goes to the
        # first by name, whichever order the model lists them in.
        named = sorted(enumerate(model.classes), key=lambda ic: ic[1])
        self._fact_at = [i for i, label in named if label in self._facts]
        self._other_at = [i for i, label in named if label not in self._facts]

    def match(self, text: str) -> MatchResult:
        reading = self.reader.read(text)
        if not reading.words:
            return MatchResult("no_match", route="empty")
        probability = self.model.probabilities(features(reading))
        classes = self.model.classes
        best = heapq.nlargest(MAX_CANDIDATES, self._fact_at, key=probability.__getitem__)
        candidates = tuple(Candidate(classes[i], round(100 * probability[i], 1)) for i in best)
        if (
            reading.other_framework
            and reading.comparison
            and len(reading.frameworks) < 2
            and candidates[0].score < _CLEARLY_OURS
        ):
            # "sanic or fastapi?", "django vs flask": another pair, unless the message is
            # plainly about ours and names another in passing.
            return MatchResult("no_match", candidates, "other_pair")
        not_ours = sum(probability[i] for i in self._other_at)
        if self._other_at and not_ours >= self.config.thresholds.not_ours / 100:
            likeliest = max(self._other_at, key=probability.__getitem__)
            return MatchResult("no_match", candidates, _route(classes[likeliest]))
        return self._decide(candidates)

    def _decide(self, candidates: tuple[Candidate, ...]) -> MatchResult:
        thresholds = self.config.thresholds
        return decide(candidates, thresholds.answer, thresholds.suggest, thresholds.margin)


def decide(
    candidates: tuple[Candidate, ...], answer: float, suggest: float, margin: float
) -> MatchResult:
    """An answer when the best fact reaches `answer` and leads by `margin`; "did you mean"
    with the facts at `suggest` or more; otherwise no match."""
    if not candidates or candidates[0].score < suggest:
        return MatchResult("no_match", candidates, "offtopic")
    best = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if best >= answer and best - runner_up >= margin:
        return MatchResult("answered", candidates)
    close = tuple(c for c in candidates if c.score >= suggest)
    return MatchResult("did_you_mean", close[: MAX_CANDIDATES - 1])


def _route(label: str) -> Route:
    if label == TALK:
        return "talk"
    reason = label.removeprefix(OOS_PREFIX)
    return reason if reason in ("other_pair", "howto") else "offtopic"  # type: ignore[return-value]
