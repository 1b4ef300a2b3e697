"""Around the facts: small talk, messages that are not ours, and follow-ups in context."""

from __future__ import annotations

import pytest
import yaml

from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase
from tests.conftest import DATA
from tests.transcript import Transcript

FOLLOWUPS = yaml.safe_load((DATA / "corpus" / "followups.yaml").read_text(encoding="utf-8"))
BRIEF = 300  # characters: a line and a few suggestions, never the long "no answer"


@pytest.fixture
def chat(advisor: Advisor) -> Transcript:
    return Transcript(advisor)


def _fact(chat: Transcript) -> str | None:
    return next((r.fact.id for r in chat.replies if r.fact is not None), None)


@pytest.mark.parametrize(
    ("text", "opening"),
    [
        ("hi", "Hi!"),
        ("thanks!", "You're welcome"),
        ("who are you?", "I'm the Framework Advisor"),
        ("<@U0ADV1SOR> hello", "Hi!"),
        (":wave:", "Hi!"),
        ("lol", "I'm here for Flask vs FastAPI"),
    ],
)
def test_small_talk_gets_one_short_line_and_suggestions(
    chat: Transcript, kb: KnowledgeBase, text: str, opening: str
) -> None:
    (reply,) = chat.say(text)
    assert reply.kind == "talk"
    assert reply.text.startswith(opening)
    assert len(reply.text) <= BRIEF
    suggested = [f.id for f in reply.suggestions]
    assert suggested == kb.conversation.smalltalk.suggestions
    chat.say("2")  # a number picks a suggestion, as after "did you mean"
    assert _fact(chat) == suggested[1]


def test_a_blank_line_gets_nothing_at_all(chat: Transcript) -> None:
    assert chat.say("") == []
    assert chat.say("   ") == []


def test_every_scripted_small_talk_line_is_answered_briefly(advisor: Advisor) -> None:
    lines = FOLLOWUPS["smalltalk"]
    assert len(lines) >= 30
    for n, line in enumerate(lines):
        chat = Transcript(advisor, f"U{n}")
        replies = chat.say(line["text"])
        assert len(replies) == 1, line
        (reply,) = replies
        assert reply.kind in {"talk", "info"}, line  # `what can you do` gets the help text
        assert reply.kind == "info" or len(reply.text) <= BRIEF, line
        assert "I don't have an answer" not in reply.text, line


def test_another_framework_pair_is_declined_with_what_we_know(chat: Transcript) -> None:
    (declined, *rest) = chat.say("litestar vs fastapi, which one is faster these days?")
    assert declined.kind == "no_match"
    assert declined.text.startswith("I only compare Flask and FastAPI")
    assert declined.extras["route"] == "other_pair"
    if rest:  # what it can say about FastAPI on that aspect
        assert rest[0].text.startswith("What I can say about FastAPI")


def test_a_how_to_question_gets_a_short_note(chat: Transcript) -> None:
    (reply,) = chat.say("how do i set a cookie on the response in fastapi?")
    assert reply.kind == "no_match"
    assert reply.extras["route"] == "howto"
    assert "documentation" in reply.text
    assert len(reply.text) < 260


def test_the_other_framework_is_read_against_the_last_answer(chat: Transcript) -> None:
    chat.say("is fastapi faster than flask?")
    assert _fact(chat) == "performance"
    (reply,) = chat.say("and flask?")
    assert reply.fact is not None
    assert reply.fact.id == "performance"
    assert reply.focus == "flask"
    assert reply.fact.flask in reply.text
    assert reply.fact.fastapi not in reply.text


def test_another_pair_after_an_answer_is_still_another_pair(chat: Transcript) -> None:
    chat.say("does fastapi have swagger docs?")
    (declined, *_) = chat.say("sanic or fastapi?")
    assert declined.extras["route"] == "other_pair"


def test_why_after_an_answer_gives_its_reasoning_and_sources(chat: Transcript) -> None:
    chat.say("does fastapi have swagger docs")
    (reply,) = chat.say("why?")
    assert reply.fact is not None
    assert reply.fact.id == "documentation"
    assert reply.focus == "more"
    assert reply.fact.source in reply.text


def test_why_with_nothing_answered_yet_is_still_the_dialog_control(chat: Transcript) -> None:
    (reply,) = chat.say("why")
    assert reply.kind == "info"
    assert "recommend" in reply.text


def test_another_aspect_in_context_is_answered_as_that_fact(chat: Transcript) -> None:
    chat.say("is fastapi faster than flask?")
    chat.say("what about websockets then?")
    assert _fact(chat) == "realtime"
    assert chat.state.last_fact == "realtime"


def test_context_survives_in_the_stored_state(chat: Transcript) -> None:
    chat.say("can flask render jinja templates")
    assert chat.state.last_fact == "templating"


def test_scripted_follow_ups_land_on_the_intended_fact(kb: KnowledgeBase, advisor: Advisor) -> None:
    """Each exchange in its own conversation; the first answer is whatever the matcher gives
    (the follow-up is judged against the fact the script meant only when that one came)."""
    exchanges = FOLLOWUPS["exchanges"]
    assert len(exchanges) >= 40
    landed = judged = 0
    for n, exchange in enumerate(exchanges):
        chat = Transcript(advisor, f"F{n}")
        chat.say(exchange["first"])
        if _fact(chat) != exchange["first_fact"]:
            continue
        judged += 1
        chat.say(exchange["then"])
        landed += _fact(chat) == exchange["expect"]
    assert judged >= 0.9 * len(exchanges)
    assert landed >= 0.9 * judged, f"{landed}/{judged}"


def test_follow_up_file_names_only_known_facts(kb: KnowledgeBase) -> None:
    for exchange in FOLLOWUPS["exchanges"]:
        assert {exchange["first_fact"], exchange["expect"]} <= set(kb.facts)


def test_a_digit_int_refuses_is_no_crash_after_suggestions(chat: Transcript) -> None:
    chat.say("hi")  # offers numbered suggestions
    replies = chat.say("¹")  # a digit to str.isdigit, not to int()
    assert replies
    assert all(r.fact is None for r in replies)
