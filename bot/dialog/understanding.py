"""Understand what a user types during the dialog: a control word, an answer, or a story.

Control words are the contract of INTERFACES.md section 3 and work in every state, so they
are code; everything about options (labels, replies, aliases, patterns) is dialog.yaml data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.kb.dialog_models import DialogFile, Factor
from bot.matching.reader import Reader


class Control(Enum):
    SKIP = "skip"
    BACK = "back"
    RESTART = "restart"
    CANCEL = "cancel"
    WHY = "why"
    HELP = "help"
    GO_ON = "go_on"  # after a verdict given early: ask the remaining questions after all
    VERDICT = "verdict"  # during the dialog: the verdict now, with what is known


CONTROL_PHRASES: dict[Control, tuple[str, ...]] = {
    Control.SKIP: (
        "skip",
        "not sure",
        "dont know",
        "don't know",
        "no idea",
        "unsure",
        "idk",
        "dunno",
        "pass",
        "no preference",
        "skip it",
        "skip this",
    ),
    Control.BACK: ("back", "go back", "previous", "undo", "previous question"),
    Control.RESTART: (
        "restart",
        "start over",
        "can we start over",
        "lets start over",
        "reset",
        "start again",
        "begin again",
    ),
    Control.CANCEL: (
        "cancel",
        "stop",
        "quit",
        "exit",
        "never mind",
        "nevermind",
        "abort",
        "forget it",
    ),
    Control.WHY: (
        "why",
        "why do you ask",
        "why does it matter",
        "why does that matter",
        "why do you need to know",
        "why do you need to know that",
        "why is this relevant",
        "why is that relevant",
        "why ask",
        "why is that",
        "whats the tradeoff",
        "whats the tradeoff here",
    ),
    Control.HELP: ("help", "what can you do", "commands", "options", "menu"),
    Control.GO_ON: (
        "go on",
        "continue",
        "keep going",
        "ask the rest",
        "ask me the rest",
        "more questions",
        "ask me more",
    ),
    Control.VERDICT: (
        "just tell me",
        "just tell me which one",
        "just tell me which one is better",
        "skip the rest",
        "verdict now",
        "verdict",
        "give me the verdict",
        "tell me now",
        "just pick one",
        "just pick for me",
        "just give me the answer",
        "just tell me flask or fastapi",
        "decide for me",
        "enough questions",
        "stop asking",
        "thats enough",
    ),
}

_FUZZY_ANSWER_CUTOFF = 82.0
_LEADING_CONTROL_WORDS = 9  # longer messages that open with "go back" say something else too
_COMMANDS = {"recommend", "recommendation"}
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
}


@dataclass(frozen=True)
class _Phrase:
    text: str
    factor: str
    option: str


class Understanding:
    def __init__(self, dialog: DialogFile, reader: Reader) -> None:
        self.dialog = dialog
        self.reader = reader
        self._controls = {
            reader.clean(phrase): control
            for control, phrases in CONTROL_PHRASES.items()
            for phrase in phrases
        }
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
        cleaned = self.reader.clean(text)
        found = self._controls.get(cleaned)
        if found is not None or len(cleaned) < 5:
            return found
        close = process.extractOne(
            cleaned, list(self._controls), scorer=OSA.distance, score_cutoff=1
        )
        if close:
            return self._controls[close[0]]  # "cancle", "restrat"
        return self._leading_control(cleaned)

    def _leading_control(self, cleaned: str) -> Control | None:
        """A control phrase of two words or more that opens a short message: "go back, I
        answered it wrong", "just tell me which one already", "start over pls"."""
        words = cleaned.split()
        if len(words) > _LEADING_CONTROL_WORDS:
            return None
        for size in range(min(4, len(words) - 1), 1, -1):
            found = self._controls.get(" ".join(words[:size]))
            if found is not None:
                return found
        return None

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
        inside = self._phrases_in(cleaned, exact)
        if inside is not None:
            return inside
        found = process.extractOne(
            cleaned, list(exact), scorer=fuzz.ratio, score_cutoff=_FUZZY_ANSWER_CUTOFF
        )
        return exact[found[0]] if found else None

    def _phrases_in(self, cleaned: str, exact: dict[str, str]) -> str | None:
        """The option named by the longest phrase inside a longer answer, if only one is."""
        pattern = _pattern(p for p in exact if len(p) >= 3)
        if pattern is None:
            return None
        options = set()
        for begin, phrase in _longest_first(pattern, cleaned):
            option = exact[phrase]
            options.add(self._negated(cleaned, begin, option) if self._binary(option) else option)
        return options.pop() if len(options) == 1 else None

    def _binary(self, option_id: str) -> bool:
        return any(
            len(f.options) == 2 and option_id in {o.id for o in f.options}
            for f in self.dialog.factors
        )

    def _negated(self, cleaned: str, begin: int, option_id: str) -> str:
        """For a yes/no factor, "no need for api docs" means the other option than "api docs"."""
        before = cleaned[:begin].split()[-3:]
        if not _NEGATORS & set(before):
            return option_id
        factor = next(f for f in self.dialog.factors if option_id in {o.id for o in f.options})
        return next(o.id for o in factor.options if o.id != option_id)

    def story(self, text: str) -> dict[str, str]:
        """Factors a free-text story answers unambiguously: factor id -> option id."""
        cleaned = self.clean(text)
        found: dict[str, set[str]] = {}
        if self._story_pattern is not None:
            for begin, phrase in _longest_first(self._story_pattern, cleaned):
                entry = self._story_phrases[phrase]
                option = entry.option
                if len(self.dialog.factor(entry.factor).options) == 2:
                    option = self._negated(cleaned, begin, option)
                found.setdefault(entry.factor, set()).add(option)
        for regex, factor_id, option_id in self._story_regexes:
            if regex.search(cleaned):
                found.setdefault(factor_id, set()).add(option_id)
        return {f: options.pop() for f, options in found.items() if len(options) == 1}


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
