"""The matcher on real messages it was never trained on, and the corpus behind it.

tests/data/corpus/test.yaml is the test split: never tuned on, never edited; its sha256 is in
the README. questions_holdout.yaml is the first held-out set (short questions in the knowledge
base's voice), still never trained on. The floors here guard against regressions; the README
has the measured figures and the targets they are measured against.
"""

from __future__ import annotations

import hashlib
import re

import yaml

from bot.evaluation import evaluate, load_questions
from bot.kb.loader import EXAMPLES_FILE, KnowledgeBase, load_labelled
from bot.kb.models import LabelledFile
from bot.matching.matcher import Matcher
from tests.conftest import DATA, ROOT

CORPUS = DATA / "corpus"
TEST = CORPUS / "test.yaml"
HOLDOUT = DATA / "questions_holdout.yaml"
# Regression floors, a few points under what the shipped model measures (README, "Matching").
TEST_TOP1, TEST_REJECTED = 0.71, 0.85
HOLDOUT_TOP1, HOLDOUT_REJECTED = 0.88, 0.93


def _real(kb: KnowledgeBase) -> list[LabelledFile]:
    """Every split of the collected corpus: what the model trains on, dev and test."""
    return [
        load_labelled(kb.directory / EXAMPLES_FILE, kb.facts),
        load_labelled(CORPUS / "dev.yaml", kb.facts),
        load_labelled(TEST, kb.facts),
    ]


def test_the_test_split_is_the_one_the_readme_records() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"test split sha256 `([0-9a-f]{64})`", readme, re.IGNORECASE)
    assert recorded is not None, "the README records the test split's sha256"
    assert hashlib.sha256(TEST.read_bytes()).hexdigest() == recorded.group(1)


def test_the_corpus_is_real_large_and_sourced(kb: KnowledgeBase) -> None:
    splits = _real(kb)
    inside = [i for s in splits for i in s.in_scope if i.kind != "written"]
    outside = [i for s in splits for i in s.out_of_scope if i.kind != "written"]
    assert len(inside) >= 400
    assert len(outside) >= 250
    messages = [*inside, *outside]
    assert sum(len(m.q.split()) > 40 for m in messages) >= len(messages) / 3
    assert all(m.source for m in messages)
    assert {m.reason for m in outside} == {"other_pair", "howto", "chitchat", "offtopic"}
    test = splits[2]
    share = sum(m.kind == "verbatim" for m in (*test.in_scope, *test.out_of_scope))
    everywhere = sum(m.kind == "verbatim" for m in messages)
    assert share / len((*test.in_scope, *test.out_of_scope)) > everywhere / len(messages)


def test_no_test_message_is_trained_on(kb: KnowledgeBase) -> None:
    def words(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())

    trained = {words(i.q) for i in (*_real(kb)[0].in_scope, *_real(kb)[0].out_of_scope)}
    trained |= {words(p) for f in kb.facts.values() for p in f.phrasings}
    test = load_labelled(TEST)
    assert not {words(i.q) for i in (*test.in_scope, *test.out_of_scope)} & trained


def test_real_messages_of_the_test_split(matcher: Matcher, kb: KnowledgeBase) -> None:
    test = load_labelled(TEST, kb.facts)
    right = sum(matcher.match(i.q).fact_id in i.accept for i in test.in_scope)
    refused = sum(matcher.match(i.q).status == "no_match" for i in test.out_of_scope)
    assert right / len(test.in_scope) >= TEST_TOP1
    assert refused / len(test.out_of_scope) >= TEST_REJECTED


def test_the_first_held_out_set(matcher: Matcher, kb: KnowledgeBase) -> None:
    report = evaluate(matcher, load_questions(HOLDOUT), set(kb.facts))
    assert report.accuracy >= HOLDOUT_TOP1, report.misses
    assert report.rejection >= HOLDOUT_REJECTED, report.misses


def test_collected_files_keep_their_sources() -> None:
    for path in sorted((CORPUS / "raw").glob("h*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for part in ("items", "stories", "replies"):
            assert all(item.get("source") for item in data.get(part, [])), path
