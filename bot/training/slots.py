"""Train the slot reader (bot.matching.slots) from knowledge/: `advisor train` writes slots.json.

What it learns from, clause by clause:
- each option's label and aliases (dialog.yaml) state that option and nothing else;
- each reply of dialog_examples.yaml states the option it was labelled with (an unsure reply
  or a control states nothing);
- small talk and off-topic messages (conversation.yaml, examples.yaml) state nothing;
- each story of dialog_examples.yaml, whose labels say which factors it states but not where.
  The clause that states a factor is found as multiple-instance learning does: first by the
  dialog's phrases, then, for a factor they miss, by the clause a first model finds likeliest.
  Every other clause is taught that it says nothing about that factor.

`python -m bot.training.slots` prints the thresholds that do best under cross-validation on
the training stories and replies; the test split (tests/data/corpus/dialog_test.yaml) is
never read here.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dialog.controls import CONTROL_NAMES, CONTROL_PHRASES
from bot.dialog.understanding import Understanding
from bot.kb.dialog_models import DialogExamples, ReplyExample, StoryExample
from bot.kb.loader import (
    DIALOG_EXAMPLES_FILE,
    EXAMPLES_FILE,
    KnowledgeBase,
    load_dialog_examples,
    load_knowledge,
    load_labelled,
)
from bot.matching.reader import Reader
from bot.matching.slots import INTENT, NONE, SlotReader, clauses, content, label
from bot.training.compare import as_model
from bot.training.dataset import Example, vocabulary
from bot.training.train import Trained, fit

REGULARISATION = 4.0
ROUNDS = 2  # a first model finds the clauses the phrases miss; the second learns from them
FOLDS = 4


@dataclass(frozen=True)
class Clause:
    text: str
    labels: dict[str, str]  # factor -> option or NONE; a factor left out is not taught


def examples_of(kb: KnowledgeBase) -> DialogExamples:
    return load_dialog_examples(kb.directory / DIALOG_EXAMPLES_FILE, kb.dialog)


def fixed_clauses(kb: KnowledgeBase, replies: Sequence[ReplyExample]) -> list[Clause]:
    """Texts whose every label is known: aliases, replies, and what is not about a project."""
    factors = [f.id for f in kb.dialog.factors]
    nothing = dict.fromkeys(factors, NONE)
    nothing[INTENT] = NONE
    found = [
        Clause(text, {**nothing, factor.id: option.id})
        for factor in kb.dialog.factors
        for option in factor.options
        for text in (option.label, *option.aliases)
    ]
    found += intent_clauses(kb)
    # "yes", "no", "not really": replies to several questions, which alone state nothing.
    owners: dict[str, set[str]] = {}
    for factor in kb.dialog.factors:
        for option in factor.options:
            for text in option.replies:
                owners.setdefault(text.lower(), set()).add(factor.id)
    generic = {text for text, factors in owners.items() if len(factors) > 1}
    found += [Clause(text, nothing) for text in sorted(generic)]
    for reply in replies:
        if reply.reply.lower().strip(" .!") in generic:
            continue
        options = {o.id for o in kb.dialog.factor(reply.factor).options}
        meant = {reply.factor: reply.expect} if reply.expect in options else {}
        intent = {} if meant else {INTENT: reply.expect}
        found.append(Clause(reply.reply, {**nothing, **meant, **intent}))
    found += [Clause(text, nothing) for text in kb.conversation.smalltalk.examples]
    path = kb.directory / EXAMPLES_FILE
    if path.exists():
        labelled = load_labelled(path, kb.facts)
        found += [Clause(o.q, nothing) for o in labelled.out_of_scope if o.reason == "offtopic"]
        # A question about the frameworks asked mid-dialog is not a control.
        found += [Clause(q.q, {INTENT: NONE}) for q in labelled.in_scope]
    return found


def intent_clauses(kb: KnowledgeBase) -> list[Clause]:
    """The control phrases and the unsure phrases, each teaching only the intent group."""
    found = [
        Clause(phrase, {INTENT: CONTROL_NAMES[control]})
        for control, phrases in CONTROL_PHRASES.items()
        if control in CONTROL_NAMES
        for phrase in phrases
    ]
    return found + [Clause(p, {INTENT: "unsure"}) for p in kb.dialog.unsure_phrases]


def story_clauses(
    understanding: Understanding,
    stories: Sequence[StoryExample],
    factors: Sequence[str],
    reader: SlotReader | None,
) -> list[Clause]:
    found: list[Clause] = []
    for story in stories:
        parts = clauses(story.story)
        ruled = [understanding.story(part) for part in parts]
        read = [reader.read(part) for part in parts] if reader else None
        labels: list[dict[str, str]] = [{} for _ in parts]
        for factor in factors:
            want = story.fills.get(factor)
            where = [i for i, r in enumerate(ruled) if want and r.get(factor) == want]
            if want and not where and read is not None:
                where = [max(range(len(parts)), key=lambda i: read[i][factor].get(want, 0.0))]
            for i in range(len(parts)):
                if i in where:
                    labels[i][factor] = str(want)
                elif factor not in ruled[i]:  # a clause the phrases disagree on is not taught
                    labels[i][factor] = NONE
        for lab in labels:
            lab[INTENT] = NONE  # a clause of a story is never a control
        found += [Clause(part, lab) for part, lab in zip(parts, labels, strict=True)]
    return found


def fit_slots(kb: KnowledgeBase, taught: Sequence[Clause], words: list[str]) -> Trained:
    """One classifier per factor over the same features, side by side in one model."""
    parts: list[Trained] = []
    for group in [*(f.id for f in kb.dialog.factors), INTENT]:
        examples = [Example(content(c.text), c.labels[group]) for c in taught if group in c.labels]
        trained = fit(kb, examples, REGULARISATION, kinship=False, words=words)
        parts.append(
            Trained(
                [label(group, c) for c in trained.classes],
                trained.rows,
                trained.weights,
                trained.bias,
                words,
            )
        )
    return _side_by_side(parts, words)


def _side_by_side(parts: Sequence[Trained], words: list[str]) -> Trained:
    rows = sorted({row for part in parts for row in part.rows})
    at = {row: i for i, row in enumerate(rows)}
    weights = [[0.0] * sum(len(p.classes) for p in parts) for _ in rows]
    column = 0
    for part in parts:
        for row, values in zip(part.rows, part.weights, strict=True):
            weights[at[row]][column : column + len(values)] = values
        column += len(part.classes)
    classes = [c for p in parts for c in p.classes]
    return Trained(classes, rows, weights, [b for p in parts for b in p.bias], words)


def train_slots(kb: KnowledgeBase, examples: DialogExamples) -> Trained:
    texts = [Example(content(s.story), "") for s in examples.stories]
    texts += [Example(content(r.reply), "") for r in examples.replies]
    words = vocabulary(kb, texts)
    understanding = Understanding(kb.dialog, Reader(kb.matching, known_words=words))
    fixed = fixed_clauses(kb, examples.replies)
    factors = [f.id for f in kb.dialog.factors]
    reader: SlotReader | None = None
    trained: Trained | None = None
    for _ in range(ROUNDS):
        taught = fixed + story_clauses(understanding, examples.stories, factors, reader)
        trained = fit_slots(kb, taught, words)
        reader = SlotReader(kb, as_model(trained))
    assert trained is not None
    return trained


@dataclass
class Counts:
    right: int = 0
    wrong: int = 0
    missed: int = 0

    @property
    def recall(self) -> float:
        return self.right / max(1, self.right + self.missed)

    @property
    def precision(self) -> float:
        return self.right / max(1, self.right + self.wrong)


def score_stories(read: dict[str, str], want: dict[str, str], counts: Counts) -> None:
    counts.right += sum(want.get(f) == o for f, o in read.items())
    counts.wrong += sum(want.get(f) != o for f, o in read.items())
    counts.missed += sum(read.get(f) != o for f, o in want.items())


def tune(kb: KnowledgeBase, seed: int = 3) -> None:
    """Cross-validated story recall and precision, and replies read, per threshold; then
    replies read per intent threshold, at the shipped reply threshold."""
    examples = examples_of(kb)
    stories, replies = list(examples.stories), list(examples.replies)
    random.Random(seed).shuffle(stories)
    random.Random(seed).shuffle(replies)
    thresholds = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # 1.0: the phrases alone
    story_counts = {t: Counts() for t in thresholds}
    replies_read = dict.fromkeys(thresholds, 0)
    intents_read = dict.fromkeys(thresholds, 0)
    for fold in range(FOLDS):
        kept = DialogExamples(
            stories=[s for n, s in enumerate(stories) if n % FOLDS != fold],
            replies=[r for n, r in enumerate(replies) if n % FOLDS != fold],
        )
        reader = SlotReader(kb, as_model(train_slots(kb, kept)))
        held_stories = [s for n, s in enumerate(stories) if n % FOLDS == fold]
        held_replies = [r for n, r in enumerate(replies) if n % FOLDS == fold]
        for threshold in thresholds:
            understanding = Understanding(
                kb.dialog,
                reader.reader,
                reader,
                story_threshold=threshold,
                reply_threshold=threshold,
            )
            for story in held_stories:
                got = understanding.story(story.story)
                score_stories(got, dict(story.fills), story_counts[threshold])
            replies_read[threshold] += _read(understanding, held_replies)
            by_intent = Understanding(kb.dialog, reader.reader, reader, intent_threshold=threshold)
            intents_read[threshold] += _read(by_intent, held_replies)
    for threshold in thresholds:
        counts = story_counts[threshold]
        print(
            f"threshold {threshold:.1f}: stories recall {counts.recall:.3f} precision "
            f"{counts.precision:.3f}; replies read {replies_read[threshold] / len(replies):.3f}; "
            f"as intent threshold, replies read {intents_read[threshold] / len(replies):.3f}"
        )


def _read(understanding: Understanding, replies: Sequence[ReplyExample]) -> int:
    return sum(understanding.reads_as(r) == r.expect for r in replies)


if __name__ == "__main__":
    tune(load_knowledge())
    sys.exit(0)
