"""The commands that read the knowledge base: `ask`, `check`, `eval` and `train`.

Each imports what it needs inside, so `advisor ask` loads only the matcher and `advisor train`
alone loads scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli import knowledge_of
from bot.errors import AdvisorError, KnowledgeError, Problem
from bot.kb.loader import DIALOG_FILE

# The labelled sets `advisor eval` reads when given none: the corpus's test and dev splits,
# then the first sets (questions.yaml is trained on; questions_holdout.yaml is not).
DEFAULT_EVAL_FILES = [
    Path("tests/data/corpus/test.yaml"),
    Path("tests/data/corpus/dev.yaml"),
    Path("tests/data/questions_holdout.yaml"),
    Path("tests/data/questions.yaml"),
]


def ask(args: argparse.Namespace) -> int:
    from bot.core.conversation import Conversation
    from bot.matching.matcher import Matcher

    kb = knowledge_of(args, cached=True)
    matcher = Matcher(kb)
    conversation = Conversation(kb, matcher.reader)
    questions = (
        [args.question]
        if args.question is not None
        else (line.rstrip("\r\n") for line in sys.stdin)
    )
    for question in questions:
        result = matcher.match(question)
        answer = conversation.one_shot(result, question)
        if args.json:
            payload = {
                "question": question,
                "fact_id": result.fact_id,
                "score": result.score,
                "alternatives": [
                    {"fact_id": c.fact_id, "score": c.score} for c in result.alternatives[:3]
                ],
                "answer": answer,
                "status": result.status,
                "route": result.route,
            }
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        else:
            print(answer + "\n", flush=True)
    return 0


def train(args: argparse.Namespace) -> int:
    from bot.training.command import compare, train

    kb = knowledge_of(args)
    if args.compare is not None:
        print(compare(kb, args.compare or None))
        return 0
    print(train(kb))
    return 0


def check(args: argparse.Namespace) -> int:
    from bot.dialog.diagram import mermaid, splice
    from bot.dialog.verify import prove
    from bot.kb.loader import EXAMPLES_FILE, load_labelled
    from bot.matching.matcher import Matcher
    from bot.matching.model import ModelError

    kb = knowledge_of(args)
    examples = kb.directory / EXAMPLES_FILE
    if examples.exists():
        load_labelled(examples, kb.facts)
    try:
        Matcher(kb)  # the trained model is there, readable and trained on this knowledge
    except ModelError as exc:
        raise KnowledgeError([Problem(exc.path, 1, exc.reason)]) from None
    proof = prove(kb.dialog, kb.sources[DIALOG_FILE])
    for warning in proof.warnings:
        print(warning, file=sys.stderr)
    if proof.errors:
        raise KnowledgeError(proof.errors)
    if args.diagram:
        diagram = mermaid(kb.dialog)
        if args.diagram.suffix == ".md" and args.diagram.exists():
            document = args.diagram.read_text(encoding="utf-8")
            try:
                diagram = splice(document, diagram)
            except ValueError as exc:
                raise AdvisorError(f"{args.diagram}: {exc}") from None
        args.diagram.write_text(diagram, encoding="utf-8")
    print(
        f"{kb.directory}: OK: {len(kb.facts)} facts, {len(kb.dialog.factors)} factors; "
        f"{proof.combinations} answer combinations each end in a verdict with 2+ reasons "
        "and a flip that flips."
    )
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from bot.evaluation import evaluate, load_questions, render_report
    from bot.matching.matcher import Matcher

    files: list[Path] = args.files or [path for path in DEFAULT_EVAL_FILES if path.is_file()]
    if not files:
        print("advisor eval: no FILE given and no labelled sets under tests/data", file=sys.stderr)
        return 2
    kb = knowledge_of(args)
    matcher = Matcher(kb)
    results: dict[str, Any] = {}
    for path in files:
        report = evaluate(matcher, load_questions(path), set(kb.facts))
        results[str(path)] = report
        if not args.json:
            print(render_report(str(path), report))
    if args.json:
        print(json.dumps({name: r.as_json() for name, r in results.items()}))
    return 0
