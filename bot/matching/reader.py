"""Read a question into the words that carry signal, and the cues around them.

Both sides of every comparison (the user's question, and each phrasing and keyword in the
knowledge base) are read by the same Reader, so a synonym, a stopword or a stem applies to both.
Misspellings are corrected against the words the knowledge base actually uses; that is where
naive fuzzy matching lost most questions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.kb.models import MatchingFile
from bot.matching.text import clean_for_matching

_CACHED_CHARS = 500  # longer texts are rare, and would make the cache hold large strings
_clean_cached = functools.lru_cache(maxsize=1024)(clean_for_matching)

_FRAMEWORKS = ("flask", "fastapi")


@dataclass(frozen=True)
class Reading:
    """What a text says, as far as matching is concerned."""

    tokens: tuple[str, ...]
    frameworks: frozenset[str]
    howto: bool
    comparison: bool
    other_framework: bool


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not ordered:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in ordered) + r")\b")


def stem(token: str) -> str:
    """Fold a plain English plural onto its singular ("docs" and "doc" meet)."""
    if len(token) <= 3 or not token.endswith("s") or token.endswith(("ss", "us")):
        return token
    if token.endswith("is") and len(token) > 4:  # "apis" -> "api", but "redis" stays
        return token
    return token[:-1]


class Reader:
    def __init__(self, config: MatchingFile, known_texts: Iterable[str] = ()) -> None:
        self.config = config
        clean = self.clean
        self.stopwords = {clean(w) for w in config.stopwords}
        self.replacements: dict[str, str] = {}
        for canonical, variants in config.synonyms.items():
            for variant in variants:
                self.replacements[clean(variant)] = clean(canonical)
        for name in config.framework_names:
            cleaned = clean(name)
            self.replacements[cleaned] = "fastapi" if "api" in cleaned else "flask"
        self.replacements = {k: v for k, v in self.replacements.items() if k and k != v}
        # Cleaned text is alphanumeric words and single spaces, so a phrase is a run of whole
        # words: looked up word by word instead of with one regex of every phrase (5x faster).
        self._phrase_starts = {k.split()[0] for k in self.replacements}
        self._longest_phrase = max((len(k.split()) for k in self.replacements), default=0)
        self._howto = _phrase_pattern(clean(c) for c in config.howto_cues)
        self._howto_shapes = [re.compile(p) for p in config.howto_patterns]
        self._comparison = _phrase_pattern(clean(c) for c in config.comparison_cues)
        self._others = _phrase_pattern(clean(c) for c in config.other_frameworks)
        # Every word the knowledge base uses anywhere: misspelt words are corrected onto these.
        words: set[str] = set(self.stopwords) | set(_FRAMEWORKS)
        for text in (*self.replacements, *self.replacements.values(), *known_texts):
            words.update(clean(text).split())
        self.known_words = sorted(w for w in words if w and " " not in w)
        self._known_set = set(self.known_words)
        self._corrections: dict[str, str] = {}

    def clean(self, text: str) -> str:
        # A turn asks several questions of one message (a control word? `recommend`? an
        # answer? a fact question?), each cleaning it again: short texts are cleaned once.
        if len(text) > _CACHED_CHARS:
            return clean_for_matching(text, self.config.max_chars)
        return _clean_cached(text, self.config.max_chars)

    def read(self, text: str) -> Reading:
        cleaned = self.clean(text)
        corrected = " ".join(self.correct(word) for word in cleaned.split())
        howto = bool(self._howto and self._howto.search(corrected)) or any(
            shape.search(corrected) for shape in self._howto_shapes
        )
        comparison = bool(self._comparison and self._comparison.search(corrected))
        other = bool(self._others and self._others.search(corrected))
        replaced = self._replace(corrected)
        frameworks: set[str] = set()
        tokens: list[str] = []
        for word in replaced.split():
            if word in _FRAMEWORKS:
                frameworks.add(word)
            elif word not in self.stopwords and not word.isdigit():  # years, counts: noise
                token = stem(word)
                if token not in tokens and token not in self.stopwords:
                    tokens.append(token)
        return Reading(tuple(tokens), frozenset(frameworks), howto, comparison, other)

    def _replace(self, text: str) -> str:
        """Each synonym phrase replaced by its canonical word, the longest phrase first,
        scanning from the left (what one regex alternation of every phrase did)."""
        words = text.split()
        out: list[str] = []
        i = 0
        while i < len(words):
            if words[i] in self._phrase_starts:
                for n in range(min(self._longest_phrase, len(words) - i), 0, -1):
                    found = self.replacements.get(" ".join(words[i : i + n]))
                    if found is not None:
                        out.append(found)
                        i += n
                        break
                else:
                    out.append(words[i])
                    i += 1
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)

    def _closest(self, word: str) -> str:
        """One slip (a letter added, dropped, swapped or, in longer words, changed) per word;
        two in words of nine letters or more. Ties go to the alphabetically first word."""
        max_slips = 2 if len(word) >= 9 else 1
        found = process.extractOne(
            word, self.known_words, scorer=OSA.distance, score_cutoff=max_slips
        )
        if found is None:
            return word
        candidate = found[0]
        if len(word) <= 5 and len(candidate) == len(word) and sorted(candidate) != sorted(word):
            return word  # a changed letter in a short word is usually another word: code/come
        return candidate

    def correct(self, word: str) -> str:
        """The known word `word` was meant to be, or `word` itself when nothing is close."""
        if word in self._known_set or len(word) < 4 or word.isdigit():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        result = self._closest(word)
        if result in self.stopwords and len(word) < 6:
            result = word  # "dying" is not a typo of "doing": short words keep their meaning
        if len(self._corrections) < 50_000:  # bounded: hostile input cannot grow memory forever
            self._corrections[word] = result
        return result
