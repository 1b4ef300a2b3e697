"""The shape of knowledge/*.yaml, as pydantic models.

Everything an author can get wrong is caught here or in the loader's cross-checks, so a bad edit
fails `advisor check` with a line number instead of surprising a user in Slack.
"""

from __future__ import annotations

from typing import Annotated

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
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Model):
    """One aspect on which Flask and FastAPI differ, with the words people use to ask about it."""

    id: Identifier
    title: Text
    flask: Text
    fastapi: Text
    verdict: Text
    source: Text
    phrasings: list[Text] = Field(min_length=MIN_PHRASINGS)
    keywords: list[Text] = Field(default_factory=list)


class FactsFile(_Model):
    facts: list[Fact] = Field(min_length=1)


class Thresholds(_Model):
    """Scores are 0-100. `answer` and `margin` decide an answer; `suggest` a "did you mean"."""

    answer: float = Field(ge=0, le=100)
    suggest: float = Field(ge=0, le=100)
    margin: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.suggest > self.answer:
            raise ValueError("thresholds: suggest must not be above answer")
        return self


class MatchingFile(_Model):
    """How questions are read: which words carry no signal, which words mean the same."""

    thresholds: Thresholds
    # Asked about with no other signal ("flask or fastapi?"), this fact answers.
    fallback_fact: Identifier
    # Facts that should lose to any specific fact scoring about as well (catch-alls).
    down_weighted: dict[Identifier, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict
    )
    framework_names: list[Text] = Field(min_length=1)
    stopwords: list[Text] = Field(default_factory=list)
    qualifiers: list[Text] = Field(default_factory=list)
    qualifier_weight: float = Field(default=0.5, gt=0, le=1)
    # canonical word -> the words and phrases that mean it here ("swagger" -> "openapi").
    synonyms: dict[Text, list[Text]] = Field(default_factory=dict)
    # Phrases that mark a how-to or debugging question rather than a comparison.
    howto_cues: list[Text] = Field(default_factory=list)
    howto_patterns: list[Text] = Field(default_factory=list)
    # Phrases that mark a comparison; they cancel the how-to penalty.
    comparison_cues: list[Text] = Field(default_factory=list)
    howto_penalty: float = Field(default=0.7, gt=0, le=1)
    # Naming one of these without naming Flask or FastAPI means the question is about them;
    # naming one beside them earns `other_framework_penalty`.
    other_frameworks: list[Text] = Field(default_factory=list)
    other_framework_penalty: float = Field(default=0.55, gt=0, le=1)
    max_chars: int = Field(default=400, ge=20)
