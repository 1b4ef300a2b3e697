"""Load knowledge/ into a KnowledgeBase, or raise KnowledgeError with every problem at once.

An author who fixes one error only to be shown the next gives up; so each file is validated in
full, then the files are checked against each other, and only then is anything reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import KnowledgeError, Problem
from bot.kb.dialog_checks import check_dialog_references
from bot.kb.dialog_models import REPLY_OUTCOMES, DialogExamples, DialogFile
from bot.kb.models import (
    REQUIRED_FACT_IDS,
    ConversationFile,
    Fact,
    FactsFile,
    LabelledFile,
    MatchingFile,
)
from bot.kb.source import Loc, SourceFile, read_yaml

FACTS_FILE = "facts.yaml"
MATCHING_FILE = "matching.yaml"
DIALOG_FILE = "dialog.yaml"
CONVERSATION_FILE = "conversation.yaml"
EXAMPLES_FILE = "examples.yaml"  # read only to train and check: never at run time
DIALOG_EXAMPLES_FILE = "dialog_examples.yaml"  # the slot reader's training set, likewise

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the advisor knows, validated. Facts keep the order of facts.yaml."""

    directory: Path
    facts: dict[str, Fact]
    matching: MatchingFile
    dialog: DialogFile
    conversation: ConversationFile
    # The parsed files, with line numbers, for checks that report `file:line`.
    sources: dict[str, SourceFile]


def bundled_knowledge_dir() -> Path:
    """knowledge/ inside the installed package, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "knowledge", package.parent / "knowledge"):
        if (candidate / FACTS_FILE).is_file():
            return candidate
    return package.parent / "knowledge"


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """Read and validate a knowledge directory; raise KnowledgeError listing every problem."""
    directory = directory or bundled_knowledge_dir()
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeError([Problem(directory, 0, "knowledge directory not found")])
    facts_src, facts = _parse(directory / FACTS_FILE, FactsFile, problems)
    matching_src, matching = _parse(directory / MATCHING_FILE, MatchingFile, problems)
    dialog_src, dialog = _parse(directory / DIALOG_FILE, DialogFile, problems)
    talk_src, talk = _parse(directory / CONVERSATION_FILE, ConversationFile, problems)
    if facts_src is not None and facts is not None:
        problems += _check_facts(facts_src, facts)
    # Cross-file checks run even when facts.yaml has errors of its own, against the ids it
    # does declare, so an author sees every problem in one run.
    fact_ids = _declared_fact_ids(facts_src)
    if matching_src is not None and matching is not None:
        problems += _check_matching(matching_src, matching)
    if fact_ids is not None and dialog_src is not None and dialog is not None:
        problems += check_dialog_references(dialog_src, dialog, fact_ids)
    if fact_ids is not None and talk_src is not None and talk is not None:
        suggested = talk.smalltalk.suggestions
        refs = [(("smalltalk", "suggestions", i), fact_id) for i, fact_id in enumerate(suggested)]
        problems += _unknown_ids(talk_src, refs, fact_ids)
    if problems or facts is None or matching is None or dialog is None or talk is None:
        raise KnowledgeError(problems)
    return KnowledgeBase(
        directory=directory,
        facts={fact.id: fact for fact in facts.facts},
        matching=matching,
        dialog=dialog,
        conversation=talk,
        sources={
            name: src
            for name, src in (
                (FACTS_FILE, facts_src),
                (MATCHING_FILE, matching_src),
                (DIALOG_FILE, dialog_src),
                (CONVERSATION_FILE, talk_src),
            )
            if src is not None
        },
    )


def load_labelled(path: Path, fact_ids: Iterable[str] | None = None) -> LabelledFile:
    """A file of labelled messages (examples.yaml, an evaluation set), every problem at once
    with its line; with `fact_ids`, an unknown fact id is one of them."""
    problems: list[Problem] = []
    source, labelled = _parse(path, LabelledFile, problems)
    if source is not None and labelled is not None and fact_ids is not None:
        known = set(fact_ids)
        refs = [
            (("in_scope", i, "accept", j), fact_id)
            for i, item in enumerate(labelled.in_scope)
            for j, fact_id in enumerate(item.accept)
        ]
        problems += _unknown_ids(source, refs, known)
    if problems or labelled is None:
        raise KnowledgeError(problems)
    return labelled


def load_dialog_examples(path: Path, dialog: DialogFile) -> DialogExamples:
    """Labelled stories and replies, every problem at once with its line: a factor or an
    option the dialog does not have is one of them."""
    problems: list[Problem] = []
    source, examples = _parse(path, DialogExamples, problems)
    if source is not None and examples is not None:
        options = {f.id: {o.id for o in f.options} for f in dialog.factors}
        for i, story in enumerate(examples.stories):
            for factor, option in story.fills.items():
                if option not in options.get(factor, ()):
                    place: Loc = ("stories", i, "fills", factor)
                    problems.append(source.problem(place, f"no option '{factor}: {option}'"))
        for i, reply in enumerate(examples.replies):
            meant = options.get(reply.factor)
            if meant is None:
                problems.append(source.problem(("replies", i, "factor"), "no such factor"))
            elif reply.expect not in meant | set(REPLY_OUTCOMES):
                place = ("replies", i, "expect")
                problems.append(source.problem(place, f"'{reply.factor}' has no '{reply.expect}'"))
    if problems or examples is None:
        raise KnowledgeError(problems)
    return examples


def _declared_fact_ids(source: SourceFile | None) -> set[str] | None:
    if source is None or not isinstance(source.data, dict):
        return None
    entries = source.data.get("facts")
    if not isinstance(entries, list):
        return None
    return {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}


def _parse(
    path: Path, model: type[M], problems: list[Problem]
) -> tuple[SourceFile | None, M | None]:
    source, found = read_yaml(path)
    problems += found
    if source is None:
        return None, None
    if not isinstance(source.data, dict):
        problems.append(source.problem((), "expected a mapping at the top of the file"))
        return source, None
    try:
        return source, model.model_validate(source.data)
    except ValidationError as exc:
        problems += (_problem(source, error) for error in exc.errors())
        return source, None


def _problem(source: SourceFile, error: Any) -> Problem:
    loc: Loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "missing":
        message = f"{where}: required field is missing"
    elif kind == "extra_forbidden":
        message = f"{where}: unknown field"
    else:
        message = f"{where}: {error['msg']}" if where else str(error["msg"])
        if kind.endswith("_type") or kind.startswith("string_"):
            value = error.get("input")
            message += f" (got {_shown(value)})"
            if kind == "string_type" and (value is None or isinstance(value, bool | int | float)):
                # YAML reads yes/no/on/off/null and bare numbers as non-strings.
                message += "; put it in quotes to make it text"
    return source.problem(loc, message)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_facts(source: SourceFile, facts: FactsFile) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    owner_of_phrasing: dict[str, str] = {}
    for index, fact in enumerate(facts.facts):
        if fact.id in seen:
            problems.append(
                source.problem(
                    ("facts", index, "id"),
                    f"duplicate fact id '{fact.id}' (first defined on line {seen[fact.id]})",
                )
            )
            continue
        seen[fact.id] = source.line_of(("facts", index, "id"))
        for p_index, phrasing in enumerate(fact.phrasings):
            key = " ".join(phrasing.lower().split())
            other = owner_of_phrasing.setdefault(key, fact.id)
            if other != fact.id:
                problems.append(
                    source.problem(
                        ("facts", index, "phrasings", p_index),
                        f"phrasing '{phrasing}' is also a phrasing of fact '{other}'",
                    )
                )
    missing = [fact_id for fact_id in REQUIRED_FACT_IDS if fact_id not in seen]
    if missing:
        problems.append(source.problem(("facts",), f"missing required facts: {', '.join(missing)}"))
    return problems


def _check_matching(source: SourceFile, matching: MatchingFile) -> list[Problem]:
    problems: list[Problem] = []
    for index, pattern in enumerate(matching.howto_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(
                source.problem(
                    ("howto_patterns", index),
                    f"pattern {pattern!r} is not a valid regular expression: {exc}",
                )
            )
    return problems


def _unknown_ids(
    source: SourceFile, refs: Iterable[tuple[Loc, str]], fact_ids: set[str]
) -> Iterable[Problem]:
    for loc, fact_id in refs:
        if fact_id not in fact_ids:
            yield source.problem(loc, f"unknown fact id '{fact_id}'")
