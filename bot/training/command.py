"""`advisor train`: the dataset from knowledge/, the fit, the file; `--compare`: the table."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.kb.loader import EXAMPLES_FILE, KnowledgeBase, load_labelled
from bot.kb.models import InScope, LabelledFile, OutOfScope
from bot.matching.matcher import trained_on
from bot.matching.model import knowledge_digest
from bot.training.dataset import OOS_PREFIX, TALK, Example, fact_examples

TEST_SPLIT = Path("tests/data/corpus/test.yaml")


def example(item: InScope | OutOfScope) -> Example:
    """A labelled message as the model learns it: its best fact, small talk, or why not ours."""
    if isinstance(item, InScope):
        return Example(item.q, item.accept[0])
    return Example(item.q, TALK if item.reason == "chitchat" else OOS_PREFIX + item.reason)


def labelled_examples(labelled: LabelledFile) -> list[Example]:
    items: list[InScope | OutOfScope] = [*labelled.in_scope, *labelled.out_of_scope]
    return [example(item) for item in items]


def examples_of(kb: KnowledgeBase) -> list[Example]:
    """Everything the model learns from, all of it in knowledge/."""
    found = fact_examples(kb)
    found += [Example(text, TALK) for text in kb.conversation.smalltalk.examples]
    path = kb.directory / EXAMPLES_FILE
    if path.exists():
        found += labelled_examples(load_labelled(path, kb.facts))
    return found


def train(kb: KnowledgeBase) -> str:
    """Both models: the fact matcher's and the dialog's slot reader."""
    from bot.matching.slots import SLOTS_FILE
    from bot.training import slots
    from bot.training.train import fit, write

    started = time.perf_counter()
    digest = knowledge_digest(trained_on(kb))
    examples = examples_of(kb)
    trained = fit(kb, examples)
    path = write(trained, digest, kb.directory)
    counts = Counter(e.label for e in examples)
    lines = [
        f"advisor: trained on {len(examples)} examples of {len(counts)} classes in "
        f"{time.perf_counter() - started:.1f} s; wrote {path} "
        f"({len(trained.rows)} rows, {path.stat().st_size // 1024} KiB)"
    ]
    started = time.perf_counter()
    dialog = slots.examples_of(kb)
    trained = slots.train_slots(kb, dialog)
    path = write(trained, digest, kb.directory, SLOTS_FILE)
    lines.append(
        f"advisor: trained the slot reader on {len(dialog.stories)} stories and "
        f"{len(dialog.replies)} replies in {time.perf_counter() - started:.1f} s; wrote {path} "
        f"({len(trained.rows)} rows, {path.stat().st_size // 1024} KiB)"
    )
    return "\n".join(lines)


def compare(kb: KnowledgeBase, files: Sequence[Path] | None) -> str:
    from bot.training.compare import table

    return table(kb, examples_of(kb), list(files or [TEST_SPLIT]))
