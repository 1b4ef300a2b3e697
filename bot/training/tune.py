"""Choose the regularisation and the matcher's thresholds by cross-validation on train + dev.

`python -m bot.training.tune`: the real messages of knowledge/examples.yaml and the dev split
are cut into five folds; each fold is predicted by a model trained on everything else (the
facts' own phrasings and the written examples always stay in training). The thresholds that
do best on those held-out predictions are printed for matching.yaml. The test split is never
read here.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.kb.loader import EXAMPLES_FILE, KnowledgeBase, load_knowledge, load_labelled
from bot.kb.models import InScope, OutOfScope
from bot.matching.features import features
from bot.matching.matcher import Matcher
from bot.training.command import example
from bot.training.compare import as_model
from bot.training.dataset import TALK, Example, fact_examples
from bot.training.train import fit

DEV = Path("tests/data/corpus/dev.yaml")
FOLDS = 5


@dataclass(frozen=True)
class Held:
    """One held-out message: what it accepts (empty: not ours) and every class's probability."""

    accept: tuple[str, ...]
    ranked: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Outcome:
    top1: float
    did_you_mean: float
    rejected: float


def held_out(kb: KnowledgeBase, regularisation: float, seed: int = 5) -> list[Held]:
    train = load_labelled(kb.directory / EXAMPLES_FILE, kb.facts)
    dev = load_labelled(DEV, kb.facts)
    items: list[InScope | OutOfScope] = [*train.in_scope, *train.out_of_scope]
    items += [*dev.in_scope, *dev.out_of_scope]
    fixed = fact_examples(kb) + [Example(t, TALK) for t in kb.conversation.smalltalk.examples]
    fixed += [example(i) for i in items if i.kind == "written"]
    real = [i for i in items if i.kind != "written"]
    random.Random(seed).shuffle(real)
    found: list[Held] = []
    for fold in range(FOLDS):
        kept = [example(i) for n, i in enumerate(real) if n % FOLDS != fold]
        matcher = Matcher(kb, as_model(fit(kb, fixed + kept, regularisation)))
        for n, item in enumerate(real):
            if n % FOLDS == fold:
                ranked = matcher.model.rank(features(matcher.reader.read(item.q)))
                accept = tuple(item.accept) if isinstance(item, InScope) else ()
                found.append(Held(accept, tuple((s.label, s.probability) for s in ranked)))
    return found


def outcome(
    held: Sequence[Held], facts: set[str], not_ours: float, answer: float, margin: float
) -> Outcome:
    """What the matcher's decision (bot.matching.matcher) makes of the held-out predictions."""
    suggest = 0.1  # matching.yaml's `suggest`
    inside = [h for h in held if h.accept]
    outside = [h for h in held if not h.accept]

    def decide(h: Held) -> tuple[str, str | None]:
        if sum(p for label, p in h.ranked if label not in facts) >= not_ours:
            return "no_match", None
        ranked = [(label, p) for label, p in h.ranked if label in facts]
        (best, p1), (_, p2) = ranked[0], ranked[1]
        if p1 >= answer and p1 - p2 >= margin:
            return "answered", best
        return ("did_you_mean", None) if p1 >= suggest else ("no_match", None)

    decided = [decide(h) for h in inside]
    return Outcome(
        top1=sum(d[1] in h.accept for d, h in zip(decided, inside, strict=True)) / len(inside),
        did_you_mean=sum(d[0] == "did_you_mean" for d in decided) / len(inside),
        rejected=sum(decide(h)[0] == "no_match" for h in outside) / len(outside),
    )


def main() -> int:
    kb = load_knowledge()
    facts = set(kb.facts)
    for regularisation in (4.0, 10.0, 30.0):
        held = held_out(kb, regularisation)
        grid = itertools.product((0.3, 0.4, 0.5), (0.15, 0.2, 0.25, 0.3), (0.0, 0.03, 0.06))
        scored = [(outcome(held, facts, *g), g) for g in grid]
        best, chosen = max(scored, key=lambda s: s[0].top1 + s[0].rejected)
        print(
            f"C={regularisation:g}: not_ours={chosen[0]:g} answer={chosen[1]:g} "
            f"margin={chosen[2]:g} -> top-1 {best.top1:.3f}, did-you-mean "
            f"{best.did_you_mean:.3f}, rejected {best.rejected:.3f} (n={len(held)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
