"""Train the matcher from knowledge/ and write the weights it ships (`advisor train`).

Development-only: this module imports scikit-learn and numpy, which `advisor ask` and `advisor
serve` never load (tests/test_architecture.py holds that line). The model is a multinomial
logistic regression over bot.matching.features, with one class per fact, explicit classes for
what is not ours (another framework pair, a how-to, anything else) and one for small talk: an
explicit "not for me" class rejects far better than a threshold on the best fact's score.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.kb.loader import KnowledgeBase
from bot.matching.features import features, pair_name, word_features
from bot.matching.model import FORMAT, MODEL_FILE, Layout, npy_bytes, weights_path
from bot.matching.reader import Reader, stem
from bot.training.dataset import Example, fact_examples, vocabulary

# Chosen by cross-validation on train + dev (bot.training.tune), never on the test split.
REGULARISATION = 10.0
MIN_FEATURE_USES = 2  # letter groups and word pairs seen once say more about noise than meaning


@dataclass(frozen=True)
class Trained:
    classes: list[str]
    rows: list[str]
    weights: list[list[float]]  # one row per feature, one column per class
    bias: list[float]
    vocabulary: list[str]


class Vectoriser:
    """The trainer's view of a message: bot.matching.features plus, per word, the facts whose
    own phrasings use it ("k:<fact>", weighted by how few facts do). Those fold into each
    word's ready-made row, so the run-time model needs nothing more."""

    def __init__(self, kb: KnowledgeBase, reader: Reader, letters: bool, kinship: bool) -> None:
        self.reader = reader
        self.letters = letters
        self.kin: dict[str, dict[str, float]] = {}
        if kinship:
            users: dict[str, set[str]] = {}
            for example in fact_examples(kb):
                for token in reader.read(example.text).tokens:
                    users.setdefault(token, set()).add(example.label)
            total = len(kb.facts)
            for token, facts in users.items():
                weight = math.log((total + 1) / (len(facts) + 0.5))
                self.kin[token] = {"k:" + fact: weight for fact in facts}

    def word(self, word: str) -> dict[str, float]:
        names = word_features(word) if self.letters else ["w:" + word]
        found = dict.fromkeys(names, 1.0)
        found.update(self.kin.get(stem(word), {}))
        return found

    def message(self, text: str) -> dict[str, float]:
        found = features(self.reader.read(text))
        vector: dict[str, float] = {}
        for word in found.words:
            for name, value in self.word(word).items():
                vector[name] = vector.get(name, 0.0) + value
        for pair in found.pairs:
            vector["b:" + pair_name(pair)] = 1.0
        for cue in found.cues:
            vector["f:" + cue] = 1.0
        scale = found.scale
        return {name: value * scale for name, value in vector.items()}


def fit(
    kb: KnowledgeBase,
    examples: Sequence[Example],
    regularisation: float = REGULARISATION,
    *,
    letters: bool = True,
    kinship: bool = True,
    words: list[str] | None = None,
) -> Trained:
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    words = words if words is not None else vocabulary(kb, examples)
    reader = Reader(kb.matching, known_words=words)
    vectoriser = Vectoriser(kb, reader, letters, kinship)
    rows = [vectoriser.message(e.text) for e in examples]
    kept = _frequent(rows)
    rows = [{k: v for k, v in row.items() if k in kept} for row in rows]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=regularisation, max_iter=3000, class_weight="balanced")
    model.fit(matrix, [e.label for e in examples])
    coef = np.asarray(model.coef_, dtype=np.float64)  # classes x features
    names = list(vectorizer.get_feature_names_out())
    column = {name: i for i, name in enumerate(names)}
    out_rows: list[str] = []
    out_weights: list[list[float]] = []
    # A ready-made row per word the training data uses: all of the word's features summed.
    for word in sorted({w for e in examples for w in reader.read(e.text).words}):
        row = np.zeros(len(model.classes_))
        for name, value in vectoriser.word(word).items():
            if name in column:
                row += value * coef[:, column[name]]
        if row.any():
            out_rows.append("v:" + word)
            out_weights.append(row.tolist())
    for name in names:
        if name.startswith(("c:", "b:", "f:")):
            out_rows.append(name)
            out_weights.append(coef[:, column[name]].tolist())
    return Trained(
        classes=[str(c) for c in model.classes_],
        rows=out_rows,
        weights=out_weights,
        bias=np.asarray(model.intercept_, dtype=np.float64).tolist(),
        vocabulary=words,
    )


def _frequent(rows: list[dict[str, float]]) -> set[str]:
    uses = Counter(name for row in rows for name in row)
    return {
        name
        for name, count in uses.items()
        if count >= MIN_FEATURE_USES or name.startswith(("w:", "f:", "k:"))
    }


def write(trained: Trained, digest: str, directory: Path, name: str = MODEL_FILE) -> Path:
    weights = array("f", (w for row in trained.weights for w in row))
    data = npy_bytes(weights, (len(trained.rows), len(trained.classes)))
    payload: dict[str, Any] = {
        "format": FORMAT,
        "knowledge_sha256": digest,
        "weights_sha256": hashlib.sha256(data).hexdigest(),
        "classes": trained.classes,
        "bias": [round(b, 6) for b in trained.bias],
        "vocabulary": trained.vocabulary,
        "rows": Layout.of(trained.rows).as_json(),
    }
    path = directory / name
    weights_path(path).write_bytes(data)
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    return path
