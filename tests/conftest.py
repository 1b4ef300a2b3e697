"""Shared fixtures: the real knowledge base, a real Advisor over a real memory store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase, bundled_knowledge_dir, load_knowledge
from bot.loopback.slack_api import FakeSlackAPI
from bot.matching.matcher import Matcher
from bot.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def run_advisor(
    *args: str, stdin: str = "", cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `advisor` command as a real process; `env` adds to (or replaces in) this one's."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def api() -> Iterator[FakeSlackAPI]:
    """The loopback Slack Web API, one per test module (a module may define its own)."""
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


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
