"""What the trained matcher sees of a message: its words, their letter groups, word pairs, cues.

The trainer (bot.training) and the run-time model (bot.matching.model) both call `features`, so
the features a model was trained on are exactly the ones it is asked about. Everything here is
plain Python: the run-time model must not pull numpy or scikit-learn into `advisor ask`.

The feature vector of a message is the sum of one vector per distinct word (the word itself and
its letter groups), one per word pair and one per cue, times `scale`. Being a sum per word is
what lets the run-time model keep each word's contribution to every class ready-made.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from bot.matching.reader import Reading

NGRAM_SIZES = (3, 4, 5)
_LONG_WORDS = 40  # messages over this many words are stories with a question in them


@dataclass(frozen=True)
class Features:
    words: tuple[str, ...]  # distinct, in order of first use
    pairs: frozenset[tuple[str, str]]  # distinct pairs of neighbouring words
    cues: tuple[str, ...]

    @property
    def scale(self) -> float:
        """Long messages are not more certain than short ones: the sum is scaled down."""
        return 1.0 / math.sqrt(len(self.words) + len(self.pairs) + 1)


def pair_name(pair: tuple[str, str]) -> str:
    return f"{pair[0]} {pair[1]}"


def word_features(word: str) -> list[str]:
    """The word itself and its letter groups (in a padded word), so "fastpai" and "websokets"
    still share most of their features with the words they meant."""
    padded = f" {word} "
    grams = ["c:" + padded[i : i + n] for n in NGRAM_SIZES for i in range(len(padded) - n + 1)]
    return ["w:" + word, *dict.fromkeys(grams)]


def features(reading: Reading) -> Features:
    words = tuple(dict.fromkeys(reading.words))
    return Features(words, frozenset(itertools.pairwise(reading.words)), cues(reading))


def cues(reading: Reading) -> tuple[str, ...]:
    found = {
        "howto": reading.howto,
        "comparison": reading.comparison,
        "other_framework": reading.other_framework,
        "question_mark": reading.question,
        "long": len(reading.words) > _LONG_WORDS,
        "short": len(reading.words) <= 3,
        "empty": not reading.words,
    }
    named = sorted(reading.frameworks)
    found["names:" + ("+".join(named) or "none")] = True
    return tuple(name for name, on in found.items() if on)
