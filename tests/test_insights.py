"""The usage record: which events a conversation leaves, what privacy allows, retention, votes.

The real Advisor over real stores (memory and a SQLite file); only the clock is the test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.insights.events import Privacy
from bot.insights.recorder import DAY, Recorder, RecordSettings, Vote
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.store.base import StateStore
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore
from tests.conftest import Clock, NearTie
from tests.transcript import Transcript

SALT = b"test-salt"
OFF_TOPIC = "how do i center a div"


def recorded(
    kb: KnowledgeBase,
    matcher: Matcher,
    clock: Clock,
    store: StateStore,
    *,
    opt_in: bool = False,
    retention_days: int = 30,
) -> Advisor:
    settings = RecordSettings(Privacy(record_questions=opt_in, salt=SALT), retention_days)
    recorder = Recorder(store, settings, clock=clock)
    return Advisor(kb, store, matcher=matcher, clock=clock, recorder=recorder)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def of_type(store: StateStore, kind: str) -> list[dict[str, object]]:
    return [e for e in store.events_since(0) if e["type"] == kind]


def test_each_message_is_one_event_with_its_band_and_fact(
    kb: KnowledgeBase,
    matcher: Matcher,
    clock: Clock,
    store: MemoryStore,
    near_tie: NearTie,
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store))
    for text in ("is fastapi faster?", near_tie.text, OFF_TOPIC, "compare", "2"):
        chat.say(text)
    messages = of_type(store, "message")
    assert [(m["band"], m["fact"]) for m in messages] == [
        ("answered", "performance"),
        ("did_you_mean", "none"),
        ("no_match", "none"),
        ("other", "none"),
        ("other", "none"),  # "2" after "compare": no suggestion is pending; small talk now
    ]
    assert set(messages[1]["candidates"]) == near_tie.facts
    assert {m["surface"] for m in messages} == {"test"}
    assert all(m["at"] == clock.now for m in messages)


def test_a_typed_number_records_which_suggestion_was_chosen(
    kb: KnowledgeBase,
    matcher: Matcher,
    clock: Clock,
    store: MemoryStore,
    near_tie: NearTie,
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store))
    offered = [f.id for f in chat.say(near_tie.text)[0].suggestions]
    assert set(offered) == near_tie.facts
    chat.say("2")
    assert chat.replies[0].fact is not None
    assert chat.replies[0].fact.id == offered[1]
    chosen = of_type(store, "message")[-1]
    assert (chosen["band"], chosen["fact"]) == ("chosen", offered[1])
    assert chosen["candidates"] == offered


def test_without_opt_in_no_text_and_no_user_is_kept(
    kb: KnowledgeBase,
    matcher: Matcher,
    clock: Clock,
    store: MemoryStore,
    near_tie: NearTie,
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store))
    for text in (near_tie.text, OFF_TOPIC, "is fastapi faster?"):
        chat.say(text)
    dumped = json.dumps(store.events_since(0))
    assert "text" not in dumped
    assert "user" not in dumped
    assert "U1" not in dumped
    assert "center a div" not in dumped


def test_with_opt_in_only_unanswered_text_is_kept_and_user_ids_are_hashed(
    kb: KnowledgeBase,
    matcher: Matcher,
    clock: Clock,
    store: MemoryStore,
    near_tie: NearTie,
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store, opt_in=True))
    chat.say(f"<@U0ALICE> asked {OFF_TOPIC}")
    chat.say(near_tie.text)
    chat.say("is fastapi faster?")
    chat.say("recommend")
    messages = of_type(store, "message")
    hashed_alice = Privacy(salt=SALT).hashed("T1", "U0ALICE")
    assert messages[0]["text"] == f"<@{hashed_alice}> asked {OFF_TOPIC}"
    assert messages[1]["text"] == near_tie.text
    assert "text" not in messages[2]  # answered: its text is not needed
    assert "text" not in messages[3]
    assert messages[0]["user"] == Privacy(salt=SALT).hashed("T1", "U1")
    dumped = json.dumps(store.events_since(0))
    assert "U0ALICE" not in dumped
    assert '"U1"' not in dumped
    # The hash depends on the salt: without it, no one can test a guess of a user id.
    assert Privacy(salt=b"other").hashed("T1", "U1") != messages[0]["user"]


def test_the_dialog_leaves_start_questions_and_finish(
    kb: KnowledgeBase, matcher: Matcher, clock: Clock, store: MemoryStore
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store))
    chat.say("recommend a json api")
    for answer in ("yes", "more built in"):  # knows async, wants more built in: settled
        chat.say(answer)
    rec = chat.verdict().recommendation
    assert rec is not None
    (start,) = of_type(store, "start")
    dialog = start["dialog"]
    questions = of_type(store, "question")
    assert [q["factor"] for q in questions] == ["async_familiarity", "control"]
    assert {q["dialog"] for q in questions} == {dialog}
    (finish,) = of_type(store, "finish")
    assert finish["framework"] == rec.framework == "fastapi"
    assert finish["dialog"] == dialog
    assert of_type(store, "cancel") == []
    bands = [m["band"] for m in of_type(store, "message")]
    assert bands == ["dialog"] * 3


def test_cancel_restart_and_expiry_say_where_the_dialog_was_left(
    kb: KnowledgeBase, matcher: Matcher, clock: Clock, store: MemoryStore
) -> None:
    chat = Transcript(recorded(kb, matcher, clock, store))
    chat.say("recommend")
    first = chat.asking
    chat.say("cancel")
    chat.say("recommend")
    chat.say("restart")
    clock.advance(2 * 3600)
    chat.say("hello?")
    cancels = of_type(store, "cancel")
    assert [(c["reason"], c["factor"]) for c in cancels] == [
        ("cancel", first),
        ("restart", first),
        ("expired", first),
    ]
    starts = of_type(store, "start")
    assert len(starts) == 3
    assert len({s["dialog"] for s in starts}) == 3
    assert [c["dialog"] for c in cancels] == [s["dialog"] for s in starts]
    chat.say("cancel")  # nothing in progress: nothing cancelled
    assert len(of_type(store, "cancel")) == 3


def test_retention_forgets_events_and_votes_past_their_time(
    kb: KnowledgeBase, matcher: Matcher, clock: Clock, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "advisor.db")
    advisor = recorded(kb, matcher, clock, store, retention_days=7)
    assert advisor.recorder is not None
    chat = Transcript(advisor)
    chat.say("is fastapi faster?")
    advisor.recorder.vote(Vote("C1:1.0", "T1", "U1", "dm", "fact", "performance", 1))
    clock.advance(6 * DAY)
    chat.say("docs?")  # each write also enforces retention, now and then
    assert len(of_type(store, "message")) == 2
    assert len(store.votes_since(0)) == 1
    clock.advance(2 * DAY)  # the first question and the vote are now 8 days old
    chat.say("templates?")
    assert [e["fact"] for e in of_type(store, "message")] == ["documentation", "templating"]
    assert store.votes_since(0) == []
    assert advisor.recorder.purge() == 0
    store.close()


def test_a_second_vote_changes_the_first_and_other_users_vote_apart(
    store: MemoryStore, clock: Clock
) -> None:
    recorder = Recorder(store, RecordSettings(Privacy(salt=SALT)), clock=clock)
    up = Vote("C1:1.5", "T1", "U1", "mention", "fact", "performance", 1)
    assert recorder.vote(up) == "recorded"
    assert recorder.vote(up) == "unchanged"
    down = Vote("C1:1.5", "T1", "U1", "mention", "fact", "performance", -1)
    assert recorder.vote(down) == "changed"
    other = Vote("C1:1.5", "T1", "U2", "mention", "fact", "performance", 1)
    assert recorder.vote(other) == "recorded"
    elsewhere = Vote("C1:9.9", "T1", "U1", "mention", "fact", "performance", 1)
    assert recorder.vote(elsewhere) == "recorded"
    votes = sorted(v["vote"] for v in store.votes_since(0))
    assert votes == [-1, 1, 1]
    assert "U1" not in json.dumps(store.votes_since(0))


def test_buffered_events_wait_for_the_flush_and_close_writes_them(
    kb: KnowledgeBase, matcher: Matcher, clock: Clock, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "advisor.db")
    settings = RecordSettings(Privacy(salt=SALT), flush_interval=3600)
    recorder = Recorder(store, settings, clock=clock)
    chat = Transcript(Advisor(kb, store, matcher=matcher, clock=clock, recorder=recorder))
    chat.say("is fastapi faster?")
    assert store.events_since(0) == []  # buffered: no write on the request path
    recorder.flush()
    assert [e["fact"] for e in store.events_since(0)] == ["performance"]
    chat.say("docs?")
    recorder.close()
    assert [e["fact"] for e in store.events_since(0)] == ["performance", "documentation"]
    store.close()
