"""Shared fixtures: the real knowledge base, a real Advisor over a real memory store."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase, bundled_knowledge_dir, load_knowledge
from bot.matching.matcher import Matcher
from bot.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


class Clock:
    """A clock the test moves by hand, so expiry is tested without sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def advisor(kb: KnowledgeBase, matcher: Matcher, clock: Clock) -> Advisor:
    return Advisor(kb, MemoryStore(), matcher=matcher, clock=clock)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Callable[[], Path]:
    """A writable copy of the bundled knowledge directory, for tests that break it."""

    def make() -> Path:
        target = tmp_path / "knowledge"
        shutil.copytree(bundled_knowledge_dir(), target)
        return target

    return make
