"""Shared fixtures: the real knowledge base, a real Advisor over a real memory store."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase, bundled_knowledge_dir, load_knowledge
from bot.loopback.slack_api import FakeSlackAPI
from bot.matching.matcher import Matcher
from bot.store.memory import MemoryStore

# The knowledge cache (bot.kb.cache) of every process the tests start, apart from the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="advisor-test-cache-")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MakeCopy = Callable[[], Path]
# Words for two aspects at a time: some pair of them the shipped model finds about equally
# likely, which gives a "did you mean" (which pair depends on training, so it is searched for).
_ASPECT_WORDS = (
    "speed", "docs", "templates", "websockets", "ml model", "learning", "extensions",
    "community", "typing", "validation", "scaling", "async", "dependency injection",
    "prototype", "flexibility", "wsgi",
)  # fmt: skip


@dataclass(frozen=True)
class NearTie:
    text: str
    facts: set[str]


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


@pytest.fixture(scope="session")
def near_tie(matcher: Matcher) -> NearTie:
    """A two-aspect message that gets a "did you mean" naming both aspects."""
    for first, second in itertools.combinations(_ASPECT_WORDS, 2):
        for text in (f"{first} or {second}", f"{first} and {second}?"):
            result = matcher.match(text)
            if result.status == "did_you_mean" and len(result.candidates) >= 2:
                return NearTie(text, {c.fact_id for c in result.candidates})
    raise AssertionError("no two-aspect message gives a 'did you mean'")


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
