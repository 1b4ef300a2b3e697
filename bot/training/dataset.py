"""The labelled texts a matcher is trained and measured on.

Training data is all in knowledge/: each fact's title and phrasings, the real questions of
`examples.yaml` (in scope with their facts, out of scope with their reason) and the small-talk
lines of `conversation.yaml`. Measurement data is in tests/data/corpus/, in the same item shape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb.loader import KnowledgeBase

TALK = "talk"
OOS_PREFIX = "oos:"


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a fact id, "oos:<reason>" or "talk"


@dataclass(frozen=True)
class Item:
    """One labelled message of the corpus."""

    q: str
    accept: tuple[str, ...]  # empty: out of scope
    oos: str | None  # other_pair, howto, chitchat, offtopic
    kind: str  # verbatim or variant
    source: str

    @property
    def label(self) -> str:
        if self.accept:
            return self.accept[0]
        return TALK if self.oos == "chitchat" else OOS_PREFIX + (self.oos or "offtopic")


def read_items(path: Path) -> list[Item]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Item(
            q=str(raw["q"]),
            accept=tuple(raw.get("accept") or ()),
            oos=raw.get("oos"),
            kind=str(raw.get("kind", "variant")),
            source=str(raw.get("source", "")),
        )
        for raw in data.get("items", [])
    ]


def fact_examples(kb: KnowledgeBase) -> list[Example]:
    return [
        Example(text, fact.id)
        for fact in kb.facts.values()
        for text in (fact.title, *fact.phrasings, *fact.keywords)
    ]


def training_examples(kb: KnowledgeBase, items: Iterable[Item] = ()) -> list[Example]:
    return [*fact_examples(kb), *(Example(i.q, i.label) for i in items)]


def vocabulary(kb: KnowledgeBase, examples: Sequence[Example]) -> list[str]:
    """The words typos are corrected onto: the knowledge base's own, and every word the
    training examples use at least twice (a word used once may itself be a typo)."""
    from bot.matching.reader import Reader

    plain = Reader(kb.matching)
    counts = Counter(w for e in examples for w in plain.clean(e.text).split())
    dialog = [
        text
        for factor in kb.dialog.factors
        for option in factor.options
        for text in (option.label, *option.replies, *option.aliases)
    ]
    own_texts = [*(e.text for e in fact_examples(kb)), *dialog, *kb.dialog.start_phrases]
    own = {w for text in own_texts for w in plain.clean(text).split()}
    return sorted(own | {w for w, n in counts.items() if n >= 2 and not w.isdigit()})
