"""The labelled texts a matcher is trained and measured on.

Training data is all in knowledge/: each fact's title and phrasings, the real questions of
`examples.yaml` (in scope with their facts, out of scope with their reason) and the small-talk
lines of `conversation.yaml`. Measurement data is in tests/data/corpus/, in the same shape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.kb.loader import KnowledgeBase

TALK = "talk"
OOS_PREFIX = "oos:"


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a fact id, "oos:<reason>" or "talk"


def fact_examples(kb: KnowledgeBase) -> list[Example]:
    return [
        Example(text, fact.id)
        for fact in kb.facts.values()
        for text in (fact.title, *fact.phrasings, *fact.keywords)
    ]


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
