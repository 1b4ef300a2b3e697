"""Matching cost per message, on the bundled knowledge and on one with ten times the facts.

The trained model's cost grows with the words of a message and the number of classes (one row
addition per word, each as wide as the classes), never with the number of phrasings it was
trained on; so the scaled case multiplies the facts, with a model of the same rows and ten
times the classes.
"""

from __future__ import annotations

import random
import statistics
import time
from array import array
from collections.abc import Callable
from dataclasses import replace

from bot.bench.stats import summary_ms
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher, model_path, trained_on
from bot.matching.model import LinearModel, knowledge_digest

Progress = Callable[[str], None]
MAX_WORDS = 120


def scaled(kb: KnowledgeBase, model: LinearModel, factor: int, seed: int = 7) -> Matcher:
    """`kb` with `factor` times its facts, and a model as wide, its weights made up."""
    rng = random.Random(seed)
    facts = dict(kb.facts)
    template = next(iter(kb.facts.values()))
    for n in range(len(kb.facts) * (factor - 1)):
        fact_id = f"synthetic_{n}"
        facts[fact_id] = template.model_copy(update={"id": fact_id, "title": f"Synthetic {n}"})
    classes = [*model.classes, *(f for f in facts if f.startswith("synthetic_"))]
    width = len(classes)
    weights = array("f", (rng.gauss(0, 0.3) for _ in range(model.layout.size * width)))
    wide = LinearModel(classes, model.layout, weights, [0.0] * width, model.vocabulary)
    return Matcher(replace(kb, facts=facts), wide)


def measure(matcher: Matcher, questions: list[str], rounds: int = 5) -> dict[str, float]:
    """p50 over every round; p99 as the median of the rounds' own p99s, because on a shared
    machine one round's p99 of a sub-millisecond call moves a lot from run to run."""
    for question in questions:  # warm: first sight of a word pays for its correction
        matcher.match(question)
    seconds: list[float] = []
    p99s: list[float] = []
    for _ in range(rounds):
        round_seconds = []
        for question in questions:
            begin = time.perf_counter()
            matcher.match(question)
            round_seconds.append(time.perf_counter() - begin)
        p99s.append(summary_ms(round_seconds)["p99"])
        seconds += round_seconds
    summary = summary_ms(seconds)
    summary["p99"] = statistics.median(p99s)
    return {"classes": len(matcher.model.classes), **summary}


def cold(kb: KnowledgeBase, questions: list[str]) -> dict[str, float]:
    """Each message once, on a fresh matcher: every word's first sight (its typo correction,
    an unseen word's row) is paid in here."""
    matcher = Matcher(kb)
    seconds = []
    for question in questions:
        begin = time.perf_counter()
        matcher.match(question)
        seconds.append(time.perf_counter() - begin)
    return summary_ms(seconds)


def matching(
    kb: KnowledgeBase, questions: list[str], factor: int, progress: Progress
) -> dict[str, dict[str, float]]:
    questions = [" ".join(q.split()[:MAX_WORDS]) for q in questions]
    started = time.perf_counter()
    model = LinearModel.load(model_path(kb), knowledge_digest(trained_on(kb)))
    loaded = time.perf_counter() - started
    results = {
        "bundled": {**measure(Matcher(kb, model), questions), "load_s": round(loaded, 3)},
        "bundled, first sight": cold(kb, questions),
    }
    progress(f"matching with {factor}x the facts")
    results[f"{factor}x facts"] = measure(scaled(kb, model, factor), questions)
    return results
