"""The matcher the advisor shipped before the trained model, kept to compare against it.

Its settings are a frozen copy of the matching.yaml it was tuned with (legacy_matching.yaml).
What follows is its original description.

Find the fact a question is about, or say honestly that there is none.

Scoring, per fact, blends two views of the question's signal words (see Reader):
- coverage: how much of the question's weight the fact's whole vocabulary explains, so a
  paraphrase that mixes words from several phrasings still lands;
- the best single entry (a phrasing, a keyword or the title): how completely it appears in the
  question, how much of the question it explains, and rapidfuzz's token_sort_ratio as a tie-breaker
  for word order and near-misses.
Words are weighted by how few facts use them (a rare word like "swagger" says more than "api").

Deliberately avoided, after measuring them: `fuzz.WRatio` (gives 85.5 to anything sharing one
word with a short alias), `token_set_ratio` (100 whenever one side's words are a subset) and a
catch-all `overall` fact competing on equal terms (it swallows every question naming both).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from bot.kb.loader import KnowledgeBase
from bot.kb.models import MatchingFile
from bot.matching.matcher import Candidate, MatchResult, decide
from bot.matching.reader import Reader, Reading

MAX_CANDIDATES = 4
_UNKNOWN_WORD_WEIGHT = 2.0
_KEYWORD_BOOST = 1.5
_FALLBACK_SCORE = 72.0
_SETTINGS = Path(__file__).with_name("legacy_matching.yaml")


class _Thresholds(BaseModel):
    answer: float
    suggest: float
    margin: float


class LegacyConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    thresholds: _Thresholds
    fallback_fact: str
    down_weighted: dict[str, float]
    qualifiers: list[str]
    qualifier_weight: float
    howto_penalty: float
    other_framework_penalty: float


def _settings() -> tuple[MatchingFile, LegacyConfig]:
    data = yaml.safe_load(_SETTINGS.read_text(encoding="utf-8"))
    legacy = LegacyConfig.model_validate(data)
    shared = {k: v for k, v in data.items() if k in MatchingFile.model_fields}
    shared["thresholds"] = {**data["thresholds"], "not_ours": 100}
    return MatchingFile.model_validate(shared), legacy


@dataclass
class _Entry:
    fact_id: str
    tokens: frozenset[str]
    text: str  # the tokens sorted, joined by spaces
    keyword: bool
    weight: float = 0.0  # of all its tokens, set once the index knows every token's weight


@dataclass
class _Index:
    entries: list[_Entry] = field(default_factory=list)
    by_token: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    vocab_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    weight: dict[str, float] = field(default_factory=dict)


def _salience(uses_in_one_fact: int) -> float:
    """A word one phrasing uses in passing says less than one a fact keeps coming back to."""
    return {1: 0.8, 2: 0.9}.get(uses_in_one_fact, 1.0)


class LegacyMatcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        matching, self.config = _settings()
        texts = [
            text
            for fact in kb.facts.values()
            for text in (fact.title, *fact.phrasings, *fact.keywords)
        ]
        # Dialog answers are corrected onto the same vocabulary ("pytroch" -> "pytorch").
        texts += [
            text
            for factor in kb.dialog.factors
            for option in factor.options
            for text in (option.label, *option.replies, *option.aliases)
        ]
        texts += kb.dialog.start_phrases
        self.reader = Reader(matching, texts)
        self._index = self._build()

    def _build(self) -> _Index:
        index = _Index()
        for fact in self.kb.facts.values():
            sources = [(t, False) for t in (fact.title, *fact.phrasings)]
            sources += [(k, True) for k in fact.keywords]
            for text, keyword in sources:
                tokens = self.reader.read(text).tokens
                if not tokens:
                    continue
                entry = _Entry(fact.id, frozenset(tokens), " ".join(sorted(tokens)), keyword)
                for token in tokens:
                    index.by_token[token].append(len(index.entries))
                    index.vocab_of[fact.id].add(token)
                index.entries.append(entry)
        keyword_tokens = {t for e in index.entries if e.keyword for t in e.tokens}
        qualifiers = {t for q in self.config.qualifiers for t in self.reader.read(q).tokens}
        facts = len(self.kb.facts)
        for token, entry_ids in index.by_token.items():
            uses = Counter(index.entries[i].fact_id for i in entry_ids)
            weight = math.log((facts + 1) / (len(uses) + 0.5))
            if token in keyword_tokens:
                weight *= _KEYWORD_BOOST
            else:
                weight *= _salience(max(uses.values()))
            weight *= self.config.qualifier_weight if token in qualifiers else 1.0
            index.weight[token] = weight
        for entry in index.entries:
            entry.weight = sum(index.weight[t] for t in entry.tokens)
        return index

    def match(self, text: str) -> MatchResult:
        reading = self.reader.read(text)
        scores = self._score(reading)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        candidates = tuple(
            Candidate(fact_id, round(score, 1)) for fact_id, score in ranked[:MAX_CANDIDATES]
        )
        return self._decide(candidates)

    def _decide(self, candidates: tuple[Candidate, ...]) -> MatchResult:
        thresholds = self.config.thresholds
        return decide(candidates, thresholds.answer, thresholds.suggest, thresholds.margin)

    def _score(self, reading: Reading) -> dict[str, float]:
        index = self._index
        if reading.other_framework and not reading.frameworks:
            return {}  # "django vs rails" is someone else's question
        if not reading.tokens:
            return {self.config.fallback_fact: _FALLBACK_SCORE} if reading.frameworks else {}
        known = [t for t in reading.tokens if t in index.weight]
        if not known:
            return {}
        weights = {t: index.weight[t] for t in known}
        unknown = len(reading.tokens) - len(known)
        # Words the knowledge base never uses dilute the score, but less and less: a long
        # message full of context still says what it asks through its few signal words.
        total = sum(weights.values()) + _UNKNOWN_WORD_WEIGHT * math.sqrt(unknown)
        query_text = " ".join(sorted(reading.tokens))
        best_entry: dict[str, float] = {}
        for entry_id in {i for t in known for i in index.by_token[t]}:
            entry = index.entries[entry_id]
            shared = sum(weights[t] for t in entry.tokens if t in weights)
            completeness = shared / entry.weight
            explained = shared / total
            # token_sort_ratio of the two texts: both are sorted words already.
            similarity = fuzz.ratio(query_text, entry.text) / 100
            score = 0.5 * completeness + 0.3 * explained + 0.2 * similarity
            if entry.keyword:
                score *= completeness  # a keyword counts only when all of it is there
            if score > best_entry.get(entry.fact_id, 0.0):
                best_entry[entry.fact_id] = score
        scores: dict[str, float] = {}
        for fact_id, entry_score in best_entry.items():
            vocab = index.vocab_of[fact_id]
            coverage = sum(w for t, w in weights.items() if t in vocab) / total
            score = 100 * (0.5 * coverage + 0.5 * entry_score)
            score *= self.config.down_weighted.get(fact_id, 1.0)
            if reading.howto and not reading.comparison:
                score *= self.config.howto_penalty
            if reading.other_framework:
                score *= self.config.other_framework_penalty
            scores[fact_id] = score
        return self._with_fallback(reading, scores)

    def _with_fallback(self, reading: Reading, scores: dict[str, float]) -> dict[str, float]:
        """A comparison of Flask and FastAPI that no specific fact explains well gets the summary.

        The catch-all competes only here, below every confident specific answer: scored like any
        other fact it would swallow every question that names both frameworks.
        """
        if not (reading.frameworks and reading.comparison):
            return scores
        fallback = self.config.fallback_fact
        best_specific = max((v for k, v in scores.items() if k != fallback), default=0.0)
        if best_specific < self.config.thresholds.answer:
            floor = best_specific + self.config.thresholds.margin
            scores[fallback] = max(
                scores.get(fallback, 0.0),
                min(_FALLBACK_SCORE, max(floor, self.config.thresholds.answer)),
            )
        return scores
