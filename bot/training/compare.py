"""Matchers side by side on labelled files, per bucket of message (`advisor train --compare`).

Buckets say where a matcher fails, not only how often: short messages, stories over 40 words,
typos, Slack markup, one framework named, both named. A change that helps one phrasing and no
bucket is not a change.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.kb.loader import KnowledgeBase, load_labelled
from bot.matching.matcher import Candidate, Matcher, MatchResult
from bot.matching.model import Layout, LinearModel
from bot.matching.reader import Reader
from bot.training.dataset import Example, vocabulary
from bot.training.legacy import LegacyMatcher
from bot.training.train import Trained, fit

MatchFn = Callable[[str], MatchResult]
BUCKETS = ("all", "short", "over 40 words", "typos", "slack markup", "one named", "both named")
_SLACK = re.compile(r"<[@#!][^>]*>|<https?://[^>]*>|:[a-z0-9_+-]+:|`|\*\w")


@dataclass
class Tally:
    in_scope: int = 0
    correct: int = 0
    suggested: int = 0  # "did you mean" (right or wrong) to an in-scope message
    out_of_scope: int = 0
    rejected: int = 0

    def line(self) -> str:
        top1 = f"{self.correct / self.in_scope:.3f}" if self.in_scope else "  -  "
        dym = f"{self.suggested / self.in_scope:.2f}" if self.in_scope else "  - "
        rej = f"{self.rejected / self.out_of_scope:.3f}" if self.out_of_scope else "  -  "
        return f"{top1} ({self.in_scope:>3})  {dym}   {rej} ({self.out_of_scope:>3})"


@dataclass
class Scorecard:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[str] = field(default_factory=list)


def buckets(text: str, reader: Reader) -> list[str]:
    reading = reader.read(text)
    words = reader.clean(text).split()
    found = ["all"]
    if len(words) <= 10:
        found.append("short")
    if len(text.split()) > 40:
        found.append("over 40 words")
    if any(reader.correct(w) != w for w in words):
        found.append("typos")
    if _SLACK.search(text):
        found.append("slack markup")
    if len(reading.frameworks) == 1:
        found.append("one named")
    if len(reading.frameworks) == 2:
        found.append("both named")
    return found


def score(match: MatchFn, files: Sequence[Path], kb: KnowledgeBase, reader: Reader) -> Scorecard:
    card = Scorecard()
    for path in files:
        labelled = load_labelled(path, kb.facts)
        for item in labelled.in_scope:
            result = match(item.q)
            for bucket in buckets(item.q, reader):
                tally = card.tallies[bucket]
                tally.in_scope += 1
                tally.correct += result.fact_id in item.accept
                tally.suggested += result.status == "did_you_mean"
            if result.fact_id not in item.accept:
                card.misses.append(f"want {item.accept} got {result.status} {result.fact_id}")
        for other in labelled.out_of_scope:
            result = match(other.q)
            for bucket in buckets(other.q, reader):
                tally = card.tallies[bucket]
                tally.out_of_scope += 1
                tally.rejected += result.status == "no_match"
    return card


def as_model(trained: Trained) -> LinearModel:
    weights = array("f", (w for row in trained.weights for w in row))
    layout = Layout.of(trained.rows)
    return LinearModel(trained.classes, layout, weights, trained.bias, trained.vocabulary)


class BM25:
    """Okapi BM25 over every training text; the best text's class wins. A non-fact class or a
    low score is "not ours"."""

    def __init__(self, kb: KnowledgeBase, examples: Sequence[Example], floor: float = 6.0):
        self.reader = Reader(kb.matching, known_words=vocabulary(kb, examples))
        self.facts = set(kb.facts)
        self.floor = floor
        self.docs = [(self.reader.read(e.text).tokens, e.label) for e in examples]
        self.df = Counter(t for tokens, _ in self.docs for t in set(tokens))
        self.avg = sum(len(t) for t, _ in self.docs) / len(self.docs)
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, (tokens, _) in enumerate(self.docs):
            for token in set(tokens):
                self.postings[token].append(i)

    def match(self, text: str) -> MatchResult:
        query = self.reader.read(text).tokens
        n = len(self.docs)
        scores: dict[int, float] = defaultdict(float)
        for token in set(query):
            idf = math.log(1 + (n - self.df[token] + 0.5) / (self.df[token] + 0.5))
            for i in self.postings.get(token, ()):
                tokens = self.docs[i][0]
                tf = tokens.count(token)
                norm = tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(tokens) / self.avg))
                scores[i] += idf * norm
        best: dict[str, float] = {}
        for i, value in scores.items():
            label = self.docs[i][1]
            best[label] = max(best.get(label, 0.0), value)
        ranked = sorted(best.items(), key=lambda p: -p[1])
        if not ranked or ranked[0][0] not in self.facts or ranked[0][1] < self.floor:
            return MatchResult("no_match", route="offtopic")
        facts = [(label, v) for label, v in ranked if label in self.facts]
        return MatchResult("answered", tuple(Candidate(label, v) for label, v in facts[:4]))


def contenders(kb: KnowledgeBase, examples: Sequence[Example]) -> dict[str, MatchFn]:
    legacy = LegacyMatcher(kb)
    words_only = Matcher(kb, as_model(fit(kb, examples, letters=False)))
    shipped = Matcher(kb, as_model(fit(kb, examples)))
    return {
        "today's scorer (hand-tuned, before this model)": legacy.match,
        "BM25 over every training text": BM25(kb, examples).match,
        "linear, words and word pairs": words_only.match,
        "linear, words, pairs and letter groups (shipped)": shipped.match,
    }


def table(kb: KnowledgeBase, examples: Sequence[Example], files: Sequence[Path]) -> str:
    reader = Reader(kb.matching, known_words=vocabulary(kb, examples))
    lines = [f"on {', '.join(str(f) for f in files)}", ""]
    header = f"{'':<26}{'top-1 (n)':>14}{'dym':>7}{'rejected (n)':>16}"
    for name, match in contenders(kb, examples).items():
        card = score(match, files, kb, reader)
        lines += [name, header]
        lines += [f"  {b:<24}{card.tallies[b].line()}" for b in BUCKETS if b in card.tallies]
        lines.append("")
    return "\n".join(lines)
