"""The knowledge cache of one-shot commands: the same knowledge, faster, never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.kb import cache
from bot.kb.cache import load_cached
from bot.kb.loader import load_knowledge
from tests.conftest import MakeCopy


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "framework-advisor"


def test_a_second_load_comes_from_the_cache_and_equals_a_fresh_one(
    knowledge_copy: MakeCopy, own_cache: Path
) -> None:
    directory = knowledge_copy()
    first = load_cached(directory)
    (entry,) = own_cache.glob("knowledge-*.pickle")
    second = load_cached(directory)
    assert second is not first
    assert second.facts == load_knowledge(directory).facts
    assert second.conversation == first.conversation
    assert second.dialog == first.dialog
    assert list(own_cache.glob("knowledge-*.pickle")) == [entry]


def test_an_edit_is_never_answered_from_the_old_entry(
    knowledge_copy: MakeCopy, own_cache: Path
) -> None:
    directory = knowledge_copy()
    load_cached(directory)
    facts = directory / "facts.yaml"
    facts.write_text(facts.read_text().replace("Performance and speed", "Speed"))
    assert load_cached(directory).facts["performance"].title == "Speed"
    assert len(list(own_cache.glob("knowledge-*.pickle"))) == 2


def test_a_broken_entry_or_an_unwritable_cache_only_costs_time(
    knowledge_copy: MakeCopy, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = knowledge_copy()
    load_cached(directory)
    (entry,) = own_cache.glob("knowledge-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_cached(directory).facts == load_knowledge(directory).facts
    monkeypatch.setattr(cache, "cache_dir", lambda: Path("/proc/no-such-dir"))
    assert load_cached(directory).facts == load_knowledge(directory).facts


def test_broken_knowledge_still_fails_with_its_line(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    facts.write_text(facts.read_text().replace("  - id: realtime", "  - id: Realtime!"))
    with pytest.raises(KnowledgeError) as caught:
        load_cached(directory)
    assert any("facts.yaml:" in str(p) for p in caught.value.problems)
