"""The shape of knowledge/dialog.yaml: the factors the advisor asks about and how they score.

Question order, skip rules, inference rules, weights and the facts behind each weight are all
data, so a new factor or a re-weighting is a YAML edit that `advisor check` then proves.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.kb.models import Identifier, Text

Framework = Literal["flask", "fastapi"]
FRAMEWORKS: tuple[Framework, ...] = ("flask", "fastapi")
# How each framework is written for people: the one place its name is spelled.
DISPLAY_NAME: dict[Framework, str] = {"flask": "Flask", "fastapi": "FastAPI"}


class _Model(BaseModel):
    # Schemas are built when a file is first validated, not at import: `advisor ask` never
    # validates most of these models, and start-up is most of what a one-shot command costs.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Effect(_Model):
    """Choosing an option moves the score toward one framework, for a reason rooted in a fact."""

    favours: Framework
    weight: Annotated[float, Field(gt=0, le=10)]
    fact: Identifier
    reason: Text


class Option(_Model):
    id: Identifier
    label: Text
    # Short answers that only mean this option as a reply to its question ("yes", "lots").
    replies: list[Text] = Field(default_factory=list)
    # What people type for this option, in an answer or inside a story.
    aliases: list[Text] = Field(default_factory=list)
    # Regular expressions that find this option in a story ("10k users", "5000 rps").
    patterns: list[Text] = Field(default_factory=list)
    # This option as a condition, completing "If <flip>, FastAPI would win.": said when
    # choosing this option instead of the user's would change the verdict.
    flip: Text
    # What the user said, in a few words, for "From your message: ..." and the reasons.
    summary: Text
    effects: list[Effect] = Field(default_factory=list)


class Condition(_Model):
    """Holds when `factor` was answered with one of `is_any`."""

    factor: Identifier
    is_any: list[Identifier] = Field(min_length=1)


class Inference(_Model):
    when: Condition
    value: Identifier


class Factor(_Model):
    id: Identifier
    question: Text
    why: Text
    options: list[Option] = Field(min_length=2)
    # When a condition holds, the factor takes `value` without being asked.
    infer: list[Inference] = Field(default_factory=list)

    def option(self, option_id: str) -> Option:
        return next(o for o in self.options if o.id == option_id)


class Strength(_Model):
    """Confidence at or above `strong` reads "strong"; at or above `leaning`, "leaning"."""

    strong: Annotated[float, Field(gt=0.5, le=1)]
    leaning: Annotated[float, Field(gt=0.5, le=1)]


Probability = Annotated[float, Field(gt=0, lt=1)]


class ReadingThresholds(_Model):
    """How sure the trained slot reader must be before its reading counts: of a clause in a
    story (where a wrong guess fills a question the user never sees), and of a reply to the
    question on screen (where the user sees what was taken and can go back), and of what a
    reply that names no option does (a control, or "unsure")."""

    story: Probability
    reply: Probability
    intent: Probability


class DialogFile(_Model):
    order: list[Identifier] = Field(min_length=1)
    factors: list[Factor] = Field(min_length=1)
    # Phrases that ask for a recommendation ("which one should i use for my ...").
    start_phrases: list[Text] = Field(min_length=1)
    # Answers that leave the question's factor unknown ("mixed", "some of us", "depends").
    unsure_phrases: list[Text] = Field(default_factory=list)
    # Phrases of a story saying a codebase already runs on one framework.
    existing: dict[Framework, list[Text]] = Field(default_factory=dict)
    # Which framework wins a dead heat.
    tie_break: Framework
    # General reasons for each framework, used when the answers give fewer than two
    # (a user who skipped everything still gets a verdict a senior engineer would sign).
    fallback_reasons: dict[Framework, Annotated[list[Effect], Field(min_length=2)]]
    strength: Strength
    reading: ReadingThresholds
    idle_timeout_seconds: Annotated[int, Field(gt=0)] = 3600

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)


# What a reply to a question may mean besides one of its options.
REPLY_OUTCOMES = ("unsure", "skip", "back", "cancel", "restart", "why", "verdict_now")


class StoryExample(_Model):
    """A project story and the factors it states (only those: a guess is not a label)."""

    story: Text
    fills: dict[Identifier, Identifier] = Field(default_factory=dict)
    existing: Framework | None = None
    source: str = ""


class ReplyExample(_Model):
    """A reply typed at one question, and what it means: an option, unsure, or a control."""

    factor: Identifier
    reply: Text
    expect: Identifier
    source: str = ""


class DialogExamples(_Model):
    """Labelled stories and replies the slot reader is trained (or measured) on."""

    stories: list[StoryExample] = Field(default_factory=list)
    replies: list[ReplyExample] = Field(default_factory=list)
