"""Read a question into the words that carry signal, and the cues around them.

Both sides of every comparison (the user's question, and each phrasing and keyword in the
knowledge base) are read by the same Reader, so a synonym, a stopword or a stem applies to both.
Misspellings are corrected against the words the knowledge base actually uses; that is where
naive fuzzy matching lost most questions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.kb.models import MatchingFile
from bot.matching.text import clean_for_matching

_CACHED_CHARS = 500  # longer texts are rare, and would make the cache hold large strings
_clean_cached = functools.lru_cache(maxsize=1024)(clean_for_matching)

_FRAMEWORKS = frozenset(("flask", "fastapi"))


@dataclass(frozen=True)
class Reading:
    """What a text says, as far as matching is concerned."""

    # Every word in order, corrected and with synonyms replaced, stopwords kept: what the
    # trained model reads ("how do i" says how-to, "hi" says hello).
    words: tuple[str, ...]
    frameworks: frozenset[str]
    howto: bool
    comparison: bool
    other_framework: bool
    question: bool = False  # the message contains a question mark
    stopwords: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @functools.cached_property
    def tokens(self) -> tuple[str, ...]:
        """The words that carry signal, stemmed, once each: stopwords, framework names and
        numbers (years, counts) dropped. Worked out only when asked for."""
        stopwords = self.stopwords
        tokens: dict[str, None] = {}
        for word in self.words:
            if word in _FRAMEWORKS or word in stopwords or word.isdigit():
                continue
            token = stem(word)
            if token not in stopwords:
                tokens[token] = None
        return tuple(tokens)


class Phrases:
    """Phrases of whole words, found by their first word: a message is scanned once, word by
    word, where one regular expression of every phrase cost several times more."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            words = tuple(phrase.split())
            if words:
                self._by_first.setdefault(words[0], []).append(words)
        for found in self._by_first.values():
            found.sort(key=len, reverse=True)

    def longest_at(self, words: Sequence[str], i: int) -> tuple[str, ...] | None:
        """The longest phrase that starts at `words[i]`, if any."""
        for phrase in self._by_first.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                return phrase
        return None

    def starts(self, words: Sequence[str]) -> list[int]:
        """The positions where some phrase may start (its first word is there)."""
        firsts = self._by_first
        if firsts.keys().isdisjoint(words):  # most messages: one pass in C, and done
            return []
        return [i for i, w in enumerate(words) if w in firsts]

    def any_in(self, words: Sequence[str]) -> bool:
        return any(self.longest_at(words, i) is not None for i in self.starts(words))


def stem(token: str) -> str:
    """Fold a plain English plural onto its singular ("docs" and "doc" meet)."""
    if len(token) <= 3 or not token.endswith("s") or token.endswith(("ss", "us")):
        return token
    if token.endswith("is") and len(token) > 4:  # "apis" -> "api", but "redis" stays
        return token
    return token[:-1]


class Reader:
    def __init__(
        self,
        config: MatchingFile,
        known_texts: Iterable[str] = (),
        known_words: Iterable[str] = (),
    ) -> None:
        """`known_texts` are cleaned into words; `known_words` are clean words already (a
        trained model's vocabulary), taken as they are."""
        self.config = config
        clean = self.clean
        self.stopwords = frozenset(clean(w) for w in config.stopwords)
        self.replacements: dict[str, str] = {}
        for canonical, variants in config.synonyms.items():
            for variant in variants:
                self.replacements[clean(variant)] = clean(canonical)
        for name in config.framework_names:
            cleaned = clean(name)
            self.replacements[cleaned] = "fastapi" if "api" in cleaned else "flask"
        self.replacements = {k: v for k, v in self.replacements.items() if k and k != v}
        # Cleaned text is alphanumeric words and single spaces, so a phrase is a run of whole
        # words: looked up word by word.
        self._synonyms = Phrases(self.replacements)
        self._howto = Phrases(clean(c) for c in config.howto_cues)
        self._howto_shapes = [re.compile(p) for p in config.howto_patterns]
        self._comparison = Phrases(clean(c) for c in config.comparison_cues)
        self._others = Phrases(clean(c) for c in config.other_frameworks)
        # Every word the knowledge base uses anywhere: misspelt words are corrected onto these.
        words: set[str] = set(self.stopwords) | set(_FRAMEWORKS)
        for phrase in (*self.replacements, *self.replacements.values()):  # cleaned already
            words.update(phrase.split())
        for text in known_texts:
            words.update(clean(text).split())
        words.update(known_words)
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
        words = [self.correct(word) for word in self.clean(text).split()]
        howto = self._howto.any_in(words)
        if not howto and self._howto_shapes:
            joined = " ".join(words)
            howto = any(shape.search(joined) for shape in self._howto_shapes)
        replaced = tuple(self._replace(words))
        return Reading(
            replaced,
            _FRAMEWORKS.intersection(replaced),
            howto,
            self._comparison.any_in(words),
            self._others.any_in(words),
            "?" in text,
            self.stopwords,
        )

    def _replace(self, words: list[str]) -> list[str]:
        """Each synonym phrase replaced by its canonical word, the longest phrase first,
        scanning from the left."""
        out: list[str] = []
        done = 0  # words before this one are in `out` already
        for i in self._synonyms.starts(words):
            if i < done:
                continue  # inside a phrase just replaced
            phrase = self._synonyms.longest_at(words, i)
            if phrase is not None:
                out += words[done:i]
                out.append(self.replacements[" ".join(phrase)])
                done = i + len(phrase)
        out += words[done:]
        return out

    def _closest(self, word: str) -> str:
        """One slip (a letter added, dropped, swapped or, in longer words, changed) per word;
        two in words of nine letters or more. Ties go to the alphabetically first word."""
        max_slips = 2 if len(word) >= 9 else 1
        # Imported on the first misspelt word: most one-shot questions never need them.
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

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
