"""The shape of knowledge/*.yaml, as pydantic models.

Everything an author can get wrong is caught here or in the loader's cross-checks, so a bad edit
fails `advisor check` with a line number instead of surprising a user in Slack.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]

# The fact ids that other tools rely on (INTERFACES.md section 4). knowledge/ may add more.
REQUIRED_FACT_IDS: tuple[str, ...] = (
    "framework_type",
    "architecture",
    "async_support",
    "performance",
    "data_validation",
    "documentation",
    "learning_curve",
    "ecosystem",
    "community_resources",
    "use_cases",
    "flexibility",
    "prototyping",
    "templating",
    "scalability",
    "realtime",
    "dependency_injection",
    "type_hints",
    "ml_serving",
    "overall",
)

MIN_PHRASINGS = 10


class _Model(BaseModel):
    # Schemas are built when a file is first validated, not at import: `advisor ask` never
    # validates most of these models, and start-up is most of what a one-shot command costs.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Fact(_Model):
    """One aspect on which Flask and FastAPI differ, with the words people use to ask about it."""

    id: Identifier
    title: Text
    flask: Text
    fastapi: Text
    verdict: Text
    source: Text
    # The reasoning behind the verdict, for "why?" and "tell me more" after an answer.
    detail: Text | None = None
    phrasings: list[Text] = Field(min_length=MIN_PHRASINGS)
    keywords: list[Text] = Field(default_factory=list)


class FactsFile(_Model):
    facts: list[Fact] = Field(min_length=1)


class Thresholds(_Model):
    """Scores are the model's probabilities, as percentages. `not_ours` (the share of the
    classes that are not facts) rejects; `answer` and `margin` decide an answer; `suggest` a
    "did you mean"."""

    answer: float = Field(ge=0, le=100)
    suggest: float = Field(ge=0, le=100)
    margin: float = Field(ge=0, le=100)
    not_ours: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.suggest > self.answer:
            raise ValueError("thresholds: suggest must not be above answer")
        return self


class MatchingFile(_Model):
    """How questions are read: which words carry no signal, which words mean the same."""

    thresholds: Thresholds
    framework_names: list[Text] = Field(min_length=1)
    stopwords: list[Text] = Field(default_factory=list)
    # canonical word -> the words and phrases that mean it here ("swagger" -> "openapi").
    synonyms: dict[Text, list[Text]] = Field(default_factory=dict)
    # Phrases that mark a how-to or debugging question rather than a comparison.
    howto_cues: list[Text] = Field(default_factory=list)
    howto_patterns: list[Text] = Field(default_factory=list)
    # Phrases that mark a comparison.
    comparison_cues: list[Text] = Field(default_factory=list)
    # Other frameworks: naming one is a cue the model weighs (another pair is not ours).
    other_frameworks: list[Text] = Field(default_factory=list)
    max_chars: int = Field(default=400, ge=20)


class SmallTalkReply(_Model):
    id: Identifier
    # Words or phrases that pick this reply; the last reply has none and takes the rest.
    cues: list[Text] = Field(default_factory=list)
    text: Text


class SmallTalk(_Model):
    suggestions: list[Identifier] = Field(min_length=2, max_length=3)
    replies: list[SmallTalkReply] = Field(min_length=1)
    examples: list[Text] = Field(min_length=10)

    @model_validator(mode="after")
    def _last_takes_the_rest(self) -> SmallTalk:
        if self.replies[-1].cues:
            raise ValueError("replies: the last reply takes the rest, so it must have no cues")
        return self


class NotOurs(_Model):
    other_pair: Text
    other_pair_aspect: Text
    howto: Text
    offtopic: Text


class FollowUps(_Model):
    more: list[Text] = Field(min_length=1)
    more_words: list[Text] = Field(default_factory=list)
    openers: list[Text] = Field(default_factory=list)
    max_words: int = Field(ge=1, le=30)


class ConversationFile(_Model):
    """Small talk, why a message is not ours, and how follow-ups are read."""

    smalltalk: SmallTalk
    not_ours: NotOurs
    followups: FollowUps


Reason = Literal["other_pair", "howto", "chitchat", "offtopic"]
Kind = Literal["verbatim", "variant", "written"]


class InScope(_Model):
    """A real question and every fact that answers it (the first is the best)."""

    q: Text
    accept: list[Identifier] = Field(min_length=1)
    source: str = ""
    kind: Kind = "written"


class OutOfScope(_Model):
    """A message the advisor must not answer with a fact, and why it is not ours."""

    q: Text
    reason: Reason = "offtopic"
    source: str = ""
    kind: Kind = "written"


class LabelledFile(_Model):
    """Labelled messages: knowledge/examples.yaml (trained on) and the evaluation sets."""

    in_scope: list[InScope] = Field(default_factory=list)
    out_of_scope: list[OutOfScope] = Field(default_factory=list)
