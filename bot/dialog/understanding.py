"""Understand what a user types during the dialog: a control word, an answer, or a story.

Control words (bot.dialog.controls) come first; everything about options (labels, replies,
aliases, patterns) is dialog.yaml data, and the trained slot reader hears the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.dialog.controls import CONTROL_NAMES, Control, Controls
from bot.kb.dialog_models import DialogFile, Factor, ReplyExample
from bot.matching.reader import Reader
from bot.matching.slots import SlotReader

_FUZZY_ANSWER_CUTOFF = 82.0
# How a message that corrects an earlier answer opens ("no, it's an API", "actually 200 users").
_CORRECTION = re.compile(r"^(?:no|nope|nah|actually|correction|sorry|wait|not quite)\b[\s,.!:-]*")
_COMMANDS = {"recommend", "recommendation"}
_CONTROL_BY_NAME = {name: control for control, name in CONTROL_NAMES.items()}
# Words that, just before a phrase, turn a yes/no answer around ("we don't need swagger").
_NEGATORS = {
    "no",
    "not",
    "dont",
    "doesnt",
    "without",
    "never",
    "isnt",
    "arent",
    "wont",
    "nor",
    "neither",
    "hardly",
    "nobody",
    "none",
    "noone",
    "nothing",
    "didnt",
    "havent",
    "hasnt",
}
# Words that start a new statement: a negation before them does not reach past them.
_CLAUSE_JOINS = {"and", "but", "so", "while", "because", "though", "although", "however"}
# What, just after a phrase, says it is not wanted ("swagger and validation dont matter").
_NEGATED_AFTER = re.compile(
    r"^(?:\S+ ){0,4}?(?:(?:do|does|would)(?:nt| not) (?:really )?(?:matter|need|care)|"
    r"(?:is|are)(?:nt| not) (?:really |that |very )?(?:important|needed|a priority|a concern)|"
    r"not (?:important|needed|a priority|a concern|required)|irrelevant|unnecessary)\b"
)


@dataclass(frozen=True)
class _Phrase:
    text: str
    factor: str
    option: str


class Understanding:
    """The dialog's phrases first (they say exactly what they name), then the trained slot
    reader for what people say in words of their own."""

    def __init__(
        self,
        dialog: DialogFile,
        reader: Reader,
        slots: SlotReader | None = None,
        *,
        story_threshold: float | None = None,
        reply_threshold: float | None = None,
        intent_threshold: float | None = None,
    ) -> None:
        self.dialog = dialog
        self.reader = reader
        self.slots = slots
        self.story_threshold = story_threshold or dialog.reading.story
        self.reply_threshold = reply_threshold or dialog.reading.reply
        self.intent_threshold = intent_threshold or dialog.reading.intent
        self._control_words = Controls(reader.clean)
        owners: dict[str, set[str]] = {}
        for factor in dialog.factors:
            for option in factor.options:
                for reply in option.replies:
                    owners.setdefault(reader.clean(reply), set()).add(factor.id)
        self._shared_replies = {reply for reply, factors in owners.items() if len(factors) > 1}
        self._starts = _pattern(reader.clean(p) for p in dialog.start_phrases)
        self._unsure = [reader.clean(p) for p in dialog.unsure_phrases]
        self._existing = {
            framework: [f" {reader.clean(p)} " for p in phrases]
            for framework, phrases in dialog.existing.items()
        }
        story = [
            _Phrase(reader.clean(alias), factor.id, option.id)
            for factor in dialog.factors
            for option in factor.options
            for alias in option.aliases
        ]
        self._story_phrases = {p.text: p for p in story if p.text}
        self._story_pattern = _pattern(self._story_phrases)
        self._story_regexes = [
            (re.compile(pattern), factor.id, option.id)
            for factor in dialog.factors
            for option in factor.options
            for pattern in option.patterns
        ]

    def clean(self, text: str) -> str:
        """Lowercase words, each typo corrected against the knowledge base's vocabulary."""
        return " ".join(self.reader.correct(w) for w in self.reader.clean(text).split())

    def control(self, text: str) -> Control | None:
        return self._control_words.find(text)

    def existing(self, text: str) -> str | None:
        """The framework a story says a codebase already runs on, if it names exactly one."""
        cleaned = f" {self.reader.clean(text)} "
        found = {f for f, phrases in self._existing.items() if any(p in cleaned for p in phrases)}
        return found.pop() if len(found) == 1 else None

    def unsure(self, text: str) -> bool:
        """ "mixed", "some of us", "depends": an answer that leaves the factor unknown."""
        cleaned = f" {self.clean(text)} "
        return any(f" {phrase} " in cleaned for phrase in self._unsure)

    def asks_for_recommendation(self, text: str) -> bool:
        return bool(self._starts and self._starts.search(self.clean(text)))

    def is_recommend_command(self, text: str) -> bool:
        first = self.reader.clean(text.strip().partition(" ")[0])
        return first in _COMMANDS

    def story_after_command(self, text: str) -> str:
        """`recommend we serve a model` -> `we serve a model`."""
        stripped = text.strip()
        first, _, rest = stripped.partition(" ")
        return rest if self.reader.clean(first) in _COMMANDS else stripped

    def exact_answer(self, factor: Factor, text: str) -> str | None:
        """The option `text` names exactly (id, label, reply or alias), typos corrected."""
        cleaned = self.clean(text)
        for option in factor.options:
            phrases = (option.id, option.label, *option.replies, *option.aliases)
            if cleaned in {self.reader.clean(p) for p in phrases}:
                return option.id
        return None

    def plainly_answers(self, factor: Factor, text: str) -> str | None:
        """The option `text` names exactly, unless it is a reply several questions share
        ("yes", "not really"): that only answers the question on screen."""
        if self.clean(text) in self._shared_replies:
            return None
        return self.exact_answer(factor, text)

    def answer(self, factor: Factor, text: str) -> str | None:
        """The option of `factor` that `text` chooses, or None when it cannot be told."""
        cleaned = self.clean(text)
        if not cleaned:
            return None
        if cleaned.isascii() and cleaned.isdigit():  # "¹" is a digit int() refuses
            number = int(cleaned)
            return factor.options[number - 1].id if 1 <= number <= len(factor.options) else None
        exact: dict[str, str] = {}
        for option in factor.options:
            for phrase in (option.id, option.label, *option.replies, *option.aliases):
                exact.setdefault(self.reader.clean(phrase), option.id)
        if cleaned in exact:
            return exact[cleaned]
        if self.unsure(text):  # "it depends on a lot of things": not "a lot"
            return None
        inside = self._phrases_in(cleaned, exact)
        if inside is not None:
            return inside
        found = process.extractOne(
            cleaned, list(exact), scorer=fuzz.ratio, score_cutoff=_FUZZY_ANSWER_CUTOFF
        )
        if found:
            return exact[found[0]]
        if self.slots is None:
            return None
        return self.slots.reply(factor, text, self.reply_threshold)

    def correction(self, text: str, answers: dict[str, str | None]) -> dict[str, str]:
        """What a message that opens as a correction changes among the factors already
        answered: factor -> the option it says now."""
        found = _CORRECTION.match(text.strip().lower())
        if found is None:
            return {}
        said = self.story(text.strip()[found.end() :])
        return {f: o for f, o in said.items() if answers.get(f) not in (None, o)}

    def reply_intent(self, text: str) -> Control | Literal["unsure"] | None:
        """What a reply that names no option does, read by the slot reader: a control in
        words the control phrases do not hold ("oops, previous question please"), "unsure"
        ("still in doubt"), or None when it cannot be told."""
        if self.slots is None:
            return None
        name = self.slots.intent(text, self.intent_threshold)
        if name == "unsure":
            return "unsure"
        return _CONTROL_BY_NAME.get(name or "")

    def reads_as(self, reply: ReplyExample) -> str | None:
        """What a reply to `reply.factor`'s question is taken for, named as labelled sets
        name it: an option id, "unsure", a control ("skip", "verdict_now"), or None."""
        control = self.control(reply.reply)
        if control is not None:
            return CONTROL_NAMES.get(control)
        option = self.answer(self.dialog.factor(reply.factor), reply.reply)
        if option is None and self.unsure(reply.reply):
            return "unsure"
        if option is not None:
            return option
        intent = self.reply_intent(reply.reply)
        if isinstance(intent, Control):
            return CONTROL_NAMES.get(intent)
        return intent

    def _phrases_in(self, cleaned: str, exact: dict[str, str]) -> str | None:
        """The option named by the longest phrase inside a longer answer, if only one is."""
        pattern = _pattern(p for p in exact if len(p) >= 3)
        if pattern is None:
            return None
        options = set()
        for begin, phrase in _longest_first(pattern, cleaned):
            option = exact[phrase]
            options.add(
                self._negated(cleaned, begin, phrase, option) if self._binary(option) else option
            )
        return options.pop() if len(options) == 1 else None

    def _binary(self, option_id: str) -> bool:
        return any(
            len(f.options) == 2 and option_id in {o.id for o in f.options}
            for f in self.dialog.factors
        )

    def _negated(self, cleaned: str, begin: int, phrase: str, option_id: str) -> str:
        """For a yes/no factor, "no need for api docs" or "api docs dont matter" means the
        other option than "api docs"."""
        before = cleaned[:begin].split()
        joins = [i for i, word in enumerate(before) if word in _CLAUSE_JOINS]
        before = before[joins[-1] + 1 if joins else 0 :][-5:]  # within the phrase's own clause
        after = cleaned[begin + len(phrase) :].strip()
        if not _NEGATORS & set(before) and not _NEGATED_AFTER.match(after):
            return option_id
        factor = next(f for f in self.dialog.factors if option_id in {o.id for o in f.options})
        return next(o.id for o in factor.options if o.id != option_id)

    def story(self, text: str) -> dict[str, str]:
        """Factors a free-text story answers unambiguously: factor id -> option id. What the
        phrases find stands; the slot reader fills the factors they found nothing for."""
        found = self._story_phrases_found(text)
        if self.slots is not None:
            for factor, options in self.slots.story(text, self.story_threshold).items():
                found.setdefault(factor, options)
        return {f: options.pop() for f, options in found.items() if len(options) == 1}

    def _story_phrases_found(self, text: str) -> dict[str, set[str]]:
        cleaned = self.clean(text)
        found: dict[str, set[str]] = {}
        if self._story_pattern is not None:
            for begin, phrase in _longest_first(self._story_pattern, cleaned):
                entry = self._story_phrases[phrase]
                option = entry.option
                if len(self.dialog.factor(entry.factor).options) == 2:
                    option = self._negated(cleaned, begin, phrase, option)
                found.setdefault(entry.factor, set()).add(option)
        for regex, factor_id, option_id in self._story_regexes:
            if regex.search(cleaned):
                found.setdefault(factor_id, set()).add(option_id)
        return found


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not ordered:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in ordered) + r")\b")


def _longest_first(pattern: re.Pattern[str], text: str) -> list[tuple[int, str]]:
    """Every phrase found, where a phrase inside a longer one found around it does not count:
    "dont need docs" hides the "docs" within it."""
    hits: list[tuple[int, int, str]] = []
    start = 0
    while start < len(text):
        match = pattern.search(text, start)
        if match is None:
            break
        hits.append((match.start(), match.end(), match.group(0)))
        start = match.start() + 1
    hits.sort(key=lambda h: -(h[1] - h[0]))
    taken: list[tuple[int, int]] = []
    kept: list[tuple[int, str]] = []
    for begin, end, phrase in hits:
        if any(begin < t_end and t_begin < end for t_begin, t_end in taken):
            continue
        taken.append((begin, end))
        kept.append((begin, phrase))
    return kept
