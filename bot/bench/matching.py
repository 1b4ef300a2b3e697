"""Matching cost per question on the bundled knowledge base and on synthetic ones scaled to
10,000 and 100,000 phrasings, to show how cost grows with the knowledge base."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from bot.bench.stats import summary_ms
from bot.kb.loader import KnowledgeBase
from bot.kb.models import Fact
from bot.matching.matcher import Matcher

Progress = Callable[[str], None]
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthetic_kb(base: KnowledgeBase, phrasings: int, seed: int = 7) -> KnowledgeBase:
    """`base` plus made-up facts with 20 phrasings each, about `phrasings` in all."""
    rng = random.Random(seed)
    per_fact = 20
    shared = [_word(rng) for _ in range(max(200, phrasings // 20))]
    facts = dict(base.facts)
    for n in range(max(0, phrasings - sum(len(f.phrasings) for f in facts.values())) // per_fact):
        topic = [_word(rng) for _ in range(4)]
        texts = {
            " ".join(rng.sample(topic, 2) + rng.sample(shared, rng.randint(2, 4)))
            for _ in range(per_fact * 2)
        }
        facts[f"synthetic_{n}"] = Fact(
            id=f"synthetic_{n}",
            title=f"Synthetic {n}",
            flask="-",
            fastapi="-",
            verdict="-",
            source="bench",
            phrasings=sorted(texts)[:per_fact],
            keywords=topic[:2],
        )
    return replace(base, facts=facts)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    i = rng.randrange(len(words))
    word = words[i]
    if len(word) > 4:
        j = rng.randrange(1, len(word) - 1)
        words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _queries(kb: KnowledgeBase, real: list[str], seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    synthetic = [f for f in kb.facts.values() if f.id.startswith("synthetic_")]
    made = [
        _typo(rng.choice(f.phrasings), rng) for f in rng.sample(synthetic, min(200, len(synthetic)))
    ]
    return real + made


def measure(kb: KnowledgeBase, questions: list[str], rounds: int = 3) -> dict[str, float]:
    started = time.perf_counter()
    matcher = Matcher(kb)
    built = time.perf_counter() - started
    queries = _queries(kb, questions)
    for question in queries:  # warm: first sight of a misspelt word pays for its correction
        matcher.match(question)
    seconds: list[float] = []
    for _ in range(rounds):
        for question in queries:
            begin = time.perf_counter()
            matcher.match(question)
            seconds.append(time.perf_counter() - begin)
    phrasings = sum(len(f.phrasings) for f in kb.facts.values())
    cold: list[float] = []
    fresh = Matcher(kb) if phrasings <= 20_000 else matcher
    if fresh is not matcher:
        for question in queries:
            begin = time.perf_counter()
            fresh.match(question)
            cold.append(time.perf_counter() - begin)
    return {
        "phrasings": phrasings,
        "build_s": round(built, 2),
        **summary_ms(seconds),
        **({"cold_p99": summary_ms(cold)["p99"]} if cold else {}),
    }


def matching(
    kb: KnowledgeBase, questions: list[str], sizes: list[int], progress: Progress
) -> dict[str, dict[str, float]]:
    results = {"bundled": measure(kb, questions)}
    for size in sizes:
        progress(f"matching at {size:,} phrasings")
        results[f"{size}"] = measure(synthetic_kb(kb, size), questions)
    return results
