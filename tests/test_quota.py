"""A sender's quota, checked by Advisor.handle inside the conversation's lock, on the real
SQLite store (and real threads for a burst)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.messages import Inbound
from bot.core.quota import OverQuota, Quota
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.store.base import ConversationKey
from bot.store.sqlite import SQLiteStore

KEY = ConversationKey("dm", "T1", "DU1", "", "U1")


@pytest.fixture
def advisor(kb: KnowledgeBase, matcher: Matcher, tmp_path: Path) -> Advisor:
    return Advisor(kb, SQLiteStore(tmp_path / "advisor.db"), matcher=matcher)


def test_messages_past_the_quota_are_refused_and_counted(advisor: Advisor) -> None:
    quota = Quota("user:U1", limit=4)
    for n in range(4):
        assert advisor.handle(KEY, Inbound(text="is flask dead?", delivery=f"e{n}"), quota=quota)
    overs = []
    for n in range(4, 6):
        with pytest.raises(OverQuota) as refused:
            advisor.handle(KEY, Inbound(text="is flask dead?", delivery=f"e{n}"), quota=quota)
        overs.append(refused.value.over)
    assert overs == [1, 2]
    assert advisor.store.hit_count("user:U1", 60) == 6


def test_a_redelivery_is_not_counted(advisor: Advisor) -> None:
    quota = Quota("user:U1", limit=4)
    assert advisor.handle(KEY, Inbound(text="is flask dead?", delivery="e1"), quota=quota)
    assert advisor.handle(KEY, Inbound(text="is flask dead?", delivery="e1"), quota=quota) == []
    assert advisor.store.hit_count("user:U1", 60) == 1


def test_a_burst_in_one_conversation_gets_exactly_the_quota(advisor: Advisor) -> None:
    quota = Quota("user:U1", limit=6)
    answered: list[int] = []
    refused: list[int] = []
    start = threading.Barrier(12)

    def send(n: int) -> None:
        start.wait(timeout=10)
        try:
            advisor.handle(KEY, Inbound(text="is flask dead?", delivery=f"e{n}"), quota=quota)
            answered.append(n)
        except OverQuota:
            refused.append(n)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answered) == 6
    assert len(refused) == 6
    assert advisor.store.hit_count("user:U1", 60) == 12
