"""The trained matcher's weights, read from two files and applied in plain Python.

`model.json` holds the classes, the feature of every row, the vocabulary and the digest of the
knowledge it was trained on; `model.npy` (its name, ending .npy) the weights, one float32 row
per feature (numpy's own file format, so `numpy.load` reads it too, but nothing here needs
numpy to). The slot reader's `slots.json` and `slots.npy` are the same format.

`advisor train` writes the file from knowledge/ (see bot.training); nothing is downloaded or
trained at run time. The file also records a digest of the knowledge files it was trained on, so
a knowledge edit without a retrain is caught by `advisor check` and refused by `advisor serve`
instead of answering from stale weights.

Each row holds one feature's weight for every class. A word's row is stored ready-made (the word
and all its letter groups summed) for every word the training data uses; a word never seen is
built once from its letter groups and kept, so a message costs one row addition per word.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import AdvisorError
from bot.matching.features import Features, word_features

MODEL_FILE = "model.json"
WEIGHTS_FILE = "model.npy"
FORMAT = 2
_NPY_MAGIC = b"\x93NUMPY\x01\x00"
REBUILD = "advisor train"  # the one command that rebuilds the file (also `make model`)
_CACHED_WORDS = 50_000  # unseen words kept: bounded, so hostile input cannot grow memory


class ModelError(AdvisorError):
    """The model file is missing, unreadable or stale; the message says how to rebuild it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}; run `{REBUILD}`")
        self.path = path
        self.reason = f"{reason}; run `{REBUILD}`"


def weights_path(model: Path) -> Path:
    """The weights beside a model file: `slots.json` has `slots.npy`."""
    return model.with_suffix(".npy")


def knowledge_digest(files: Iterable[Path]) -> str:
    """sha256 over the knowledge files a model is trained from, by name and content."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Scored:
    """A class and its probability (0-1)."""

    label: str
    probability: float


@dataclass(frozen=True)
class Layout:
    """Which feature each row of weights holds, by kind, keyed as a message presents them, so
    no key is built per word: a word ("v"), a pair of words (first word, then second), a cue,
    and the letter groups that build an unseen word's row."""

    words: dict[str, int]
    pairs: dict[str, dict[str, int]]
    cues: dict[str, int]
    grams: dict[str, int]

    @classmethod
    def of(cls, names: Sequence[str]) -> Layout:
        """From feature names in row order ("v:word", "b:first second", "f:cue", "c:gram")."""
        layout = cls({}, {}, {}, {})
        for row, name in enumerate(names):
            kind, key = name[:2], name[2:]
            if kind == "b:":
                first, second = key.split(" ", 1)
                layout.pairs.setdefault(first, {})[second] = row
            else:
                {"v:": layout.words, "f:": layout.cues, "c:": layout.grams}[kind][key] = row
        return layout

    def names(self) -> list[str]:
        """Feature names in row order (the inverse of `of`)."""
        found = [("v:" + k, r) for k, r in self.words.items()]
        found += [
            (f"b:{a} {b}", r) for a, seconds in self.pairs.items() for b, r in seconds.items()
        ]
        found += [("f:" + k, r) for k, r in self.cues.items()]
        found += [("c:" + k, r) for k, r in self.grams.items()]
        return [name for name, _ in sorted(found, key=lambda nr: nr[1])]

    @property
    def size(self) -> int:
        pairs = sum(len(seconds) for seconds in self.pairs.values())
        return len(self.words) + pairs + len(self.cues) + len(self.grams)

    def as_json(self) -> dict[str, Any]:
        return {"words": self.words, "pairs": self.pairs, "cues": self.cues, "grams": self.grams}


class LinearModel:
    def __init__(
        self,
        classes: Sequence[str],
        layout: Layout,
        weights: array[float],
        bias: list[float],
        vocabulary: list[str],
    ) -> None:
        self.classes = tuple(classes)
        # The words typos are corrected onto, as in training (bot.matching.reader).
        self.vocabulary = vocabulary
        self.layout = layout
        self._weights = weights
        self._bias = bias
        self._width = len(classes)
        # Rows in use, as tuples: summing tuples of floats is faster than summing array
        # slices (no float is boxed again). At most one per word, pair and cue row.
        self._tuples: dict[int, tuple[float, ...]] = {}
        self._unseen: dict[str, tuple[float, ...]] = {}

    @classmethod
    def load(cls, path: Path, digest: str | None = None) -> LinearModel:
        """Read the model; with `digest`, refuse one trained on other knowledge."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            data = weights_path(path).read_bytes()
        except FileNotFoundError as exc:
            raise ModelError(Path(exc.filename), "the trained model is missing") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(path, f"unreadable ({exc})") from None
        try:
            if raw["format"] != FORMAT:
                raise ModelError(path, f"format {raw['format']} is not {FORMAT}")
            classes, bias = raw["classes"], raw["bias"]
            rows = raw["rows"]
            layout = Layout(rows["words"], rows["pairs"], rows["cues"], rows["grams"])
            trained_on, vocabulary = raw["knowledge_sha256"], list(raw["vocabulary"])
            expected = raw["weights_sha256"]
        except (KeyError, TypeError) as exc:
            raise ModelError(path, f"not a model file (no {exc})") from None
        if hashlib.sha256(data).hexdigest() != expected:
            raise ModelError(
                weights_path(path), "its weights are not the ones model.json was built with"
            )
        weights = read_npy(data, (layout.size, len(classes)))
        if weights is None or len(bias) != len(classes):
            raise ModelError(weights_path(path), "its weights are cut short or misshapen")
        if digest is not None and trained_on != digest:
            raise ModelError(path, "knowledge/ changed since the model was trained")
        return cls(classes, layout, weights, bias, vocabulary)

    def _tuple(self, row: int) -> tuple[float, ...]:
        found = self._tuples.get(row)
        if found is None:
            start = row * self._width
            found = self._tuples[row] = tuple(self._weights[start : start + self._width])
        return found

    def _word(self, word: str) -> tuple[float, ...] | None:
        """The row of a word no example used, built from its letter groups (then kept)."""
        found = self._unseen.get(word)
        if found is not None:
            return found
        grams = self.layout.grams
        parts = [grams[g[2:]] for g in word_features(word)[1:] if g[2:] in grams]
        if not parts:
            return None
        found = tuple(map(sum, zip(*map(self._slice, parts), strict=True)))
        if len(self._unseen) < _CACHED_WORDS:
            self._unseen[word] = found
        return found

    def _slice(self, row: int) -> array[float]:
        return self._weights[row * self._width : (row + 1) * self._width]

    def scores(self, found: Features) -> list[float]:
        """Each class's raw score (before the softmax), in the order of `classes`."""
        layout = self.layout
        rows_of: list[int] = []
        unseen: list[str] = []
        word_row = layout.words.get
        for word in found.words:
            row = word_row(word)
            if row is None:
                unseen.append(word)
            else:
                rows_of.append(row)
        pairs = layout.pairs
        for first, second in found.pairs:
            seconds = pairs.get(first)
            if seconds is not None and second in seconds:
                rows_of.append(seconds[second])
        rows_of += [layout.cues[c] for c in found.cues if c in layout.cues]
        rows: list[Sequence[float]] = list(map(self._tuple, rows_of))
        rows += [row for row in map(self._word, unseen) if row is not None]
        if not rows:
            return list(self._bias)
        scale = found.scale
        # Summed column by column: one pass in C over every row, not a new list per row.
        totals = map(sum, zip(*rows, strict=True))
        return [b + scale * t for b, t in zip(self._bias, totals, strict=True)]

    def probabilities(self, found: Features) -> list[float]:
        """Each class's probability (a softmax of the scores), in the order of `classes`."""
        raw = self.scores(found)
        top = max(raw)
        exps = [math.exp(s - top) for s in raw]
        norm = sum(exps)
        return [e / norm for e in exps]

    def rank(self, found: Features) -> list[Scored]:
        """Every class with its probability, most probable first."""
        pairs = zip(self.classes, self.probabilities(found), strict=True)
        return [Scored(c, p) for c, p in sorted(pairs, key=lambda cp: (-cp[1], cp[0]))]


def npy_bytes(values: array[float], shape: tuple[int, int]) -> bytes:
    """A float32 matrix in numpy's .npy format (version 1.0), little-endian."""
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
    padding = 64 - (len(_NPY_MAGIC) + 2 + len(header) + 1) % 64
    header += " " * padding + "\n"
    return _NPY_MAGIC + len(header).to_bytes(2, "little") + header.encode() + values.tobytes()


def read_npy(data: bytes, shape: tuple[int, int]) -> array[float] | None:
    """The weights of `data`, a .npy file written by `npy_bytes`, if it holds `shape`."""
    if not data.startswith(_NPY_MAGIC) or len(data) < 10:
        return None
    length = int.from_bytes(data[8:10], "little")
    header = data[10 : 10 + length].decode("latin-1")
    if "'<f4'" not in header or f"'shape': {shape}" not in header:
        return None
    weights = array("f")
    body = data[10 + length :]
    if len(body) != 4 * shape[0] * shape[1]:
        return None
    weights.frombytes(body)
    if sys.byteorder == "big":
        weights.byteswap()
    return weights
