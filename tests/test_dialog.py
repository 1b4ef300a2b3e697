"""Conversation transcripts with the real Advisor: slot filling, answers, controls, expiry."""

from __future__ import annotations

import pytest

from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase
from tests.conftest import Clock, NearTie
from tests.transcript import Transcript


@pytest.fixture
def chat(advisor: Advisor) -> Transcript:
    return Transcript(advisor)


def finish(chat: Transcript, *answers: str) -> None:
    for answer in answers:
        chat.say(answer)


# One answer per factor that favours each framework (the order questions come in is the
# engine's to choose: tests answer whatever is asked).
FASTAPI_LEANING = {
    "app_kind": "ml",
    "concurrency": "yes",
    "validation_docs": "yes",
    "async_familiarity": "yes",
    "control": "batteries",
    "project_size": "production",
}
FLASK_LEANING = {
    "app_kind": "web",
    "concurrency": "no",
    "validation_docs": "no",
    "async_familiarity": "no",
    "control": "minimal",
    "project_size": "small",
}


def answer_what_is_asked(chat: Transcript, answers: dict[str, str]) -> list[str]:
    """Answer each question asked from `answers` until the verdict; the factors asked."""
    asked: list[str] = []
    while chat.asking is not None:
        factor = chat.asking
        assert factor not in asked, f"{factor} asked twice"
        asked.append(factor)
        chat.say(answers[factor])
    return asked


def test_story_fills_factors_and_only_the_rest_is_asked(chat: Transcript) -> None:
    chat.say("recommend we serve a pytorch model to 10k users")
    assert "From your message: serving an ML model, high concurrency" in chat.text
    first = chat.asking
    assert first is not None
    assert first not in ("app_kind", "concurrency")  # the story answered those
    assert chat.state.answers == {"app_kind": "ml_model", "concurrency": "high"}
    chat.say(FASTAPI_LEANING[first])  # nothing left could change the framework
    rec = chat.verdict().recommendation
    assert rec is not None
    assert rec.framework == "fastapi"
    assert "only the confidence" in chat.text
    assert "`go on`" in chat.text
    confidence = rec.confidence
    chat.say("go on")  # the remaining questions after all, and a firmer verdict
    rest = answer_what_is_asked(chat, FASTAPI_LEANING)
    assert sorted([first, *rest]) == sorted(
        ["validation_docs", "async_familiarity", "control", "project_size"]
    )  # every question the story left open, and only those
    rec = chat.verdict().recommendation
    assert rec is not None
    assert (rec.framework, rec.strength, rec.confidence) == ("fastapi", "strong", 1.0)
    assert rec.confidence > confidence
    assert "only the confidence" not in chat.text


def test_a_settled_story_gets_the_verdict_at_once(chat: Transcript) -> None:
    chat.say("recommend we serve a pytorch model to about 10k users, the team knows asyncio well")
    assert chat.asking is None
    rec = chat.verdict().recommendation
    assert rec is not None
    assert rec.framework == "fastapi"
    assert rec.flip is None  # no single answer could change it


@pytest.mark.parametrize("words", ["just tell me", "skip the rest", "verdict now"])
def test_the_verdict_now_with_what_is_known(chat: Transcript, words: str) -> None:
    chat.say("recommend a json api")
    assert chat.state.phase == "asking"
    assert chat.asking not in (None, "app_kind")  # a question the story left open
    chat.say(words)
    rec = chat.verdict().recommendation
    assert rec is not None
    assert rec.answers["app_kind"] == "api"
    assert chat.state.phase == "done"


def test_a_natural_request_starts_the_dialog(chat: Transcript) -> None:
    chat.say("which one should I use for my ML API?")
    assert chat.state.phase == "asking"
    assert chat.state.answers.get("app_kind") == "ml_model"
    assert chat.asking not in (None, "app_kind")  # the next open question


def test_plain_recommend_asks_everything_in_order(chat: Transcript) -> None:
    """Each step asks the open question that can push furthest toward the framework now
    behind (dialog.yaml order among equals), and stops once nothing left can change it."""
    chat.say("recommend")
    assert chat.asking == "app_kind"
    assert "(1/6)" in chat.text
    seen = [chat.asking]
    # A web app leans to Flask, so concurrency (the biggest push toward FastAPI) comes next;
    # then validation_docs before async_familiarity and control (equal pushes, file order).
    for answer in ("1", "2", "2", "2"):  # Flask by then, whatever the last two say
        chat.say(answer)
        seen.append(chat.asking)
    assert seen == ["app_kind", "concurrency", "validation_docs", "async_familiarity", None]
    rec = chat.verdict().recommendation
    assert rec is not None
    assert rec.framework == "flask"
    assert rec.answers == {
        "app_kind": "web_app",
        "concurrency": "low",
        "validation_docs": "not_needed",
        "async_familiarity": "new",
        "control": None,
        "project_size": None,
    }
    # Decisive first, not file order: after a FastAPI-leaning answer the next question is one
    # that can push toward Flask by 2 (async_familiarity), not concurrency or validation_docs
    # (1 each) although dialog.yaml lists those first.
    chat.say("restart")
    chat.say("api")
    assert chat.asking == "async_familiarity"


@pytest.mark.parametrize(
    ("answer", "option"),
    [
        ("not_needed", "not_needed"),
        ("No, not important", "not_needed"),
        ("2", "not_needed"),
        ("nah", "not_needed"),
        ("we dont need swagger", "not_needed"),
        ("swagger docs please", "needed"),
        ("YES", "needed"),
        ("yess", "needed"),
        ("validaton", "needed"),
        ("we don't really need swagger", "not_needed"),
    ],
)
def test_answers_by_id_label_number_and_words(chat: Transcript, answer: str, option: str) -> None:
    chat.say("recommend a json api")
    while chat.asking not in (None, "validation_docs"):
        chat.say("skip")
    assert chat.asking == "validation_docs"
    chat.say(answer)
    assert chat.state.answers["validation_docs"] == option
    assert chat.asking != "validation_docs"  # taken, not asked again


@pytest.mark.parametrize("word", ["skip", "not sure", "don't know", "Skip!", "idk"])
def test_skip_leaves_the_factor_unknown(chat: Transcript, word: str) -> None:
    chat.say("recommend")
    chat.say(word)
    assert chat.state.answers == {"app_kind": None}
    assert chat.asking == "concurrency"


def test_back_re_asks_the_previous_question(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("back")
    assert "first question" in chat.text
    assert chat.asking == "app_kind"
    chat.say("api")
    previous = chat.asking
    assert previous not in (None, "app_kind")
    chat.say("yes")
    assert chat.asking not in (None, previous)
    first_answer = chat.state.answers[previous]
    chat.say("back")
    assert chat.asking == previous
    assert previous not in chat.state.answers
    chat.say("no")
    assert set(chat.state.answers) == {"app_kind", previous}
    assert chat.state.answers[previous] not in (None, first_answer)  # the new answer counts


def test_back_after_the_verdict_reopens_the_last_question(chat: Transcript) -> None:
    chat.say("recommend")
    asked = answer_what_is_asked(chat, FASTAPI_LEANING)
    assert chat.state.phase == "done"
    assert "only the confidence" in chat.text  # settled before every question was asked
    last = asked[-1]
    chat.say("back")
    assert chat.asking == last
    assert last not in chat.state.answers
    chat.say(FLASK_LEANING[last])  # the other way after all: the rest could now change it
    assert chat.state.phase == "asking"
    assert chat.asking not in (None, last)
    assert chat.asking not in chat.state.answers


def test_back_undoes_a_story_filled_factor_and_its_inference(chat: Transcript) -> None:
    chat.say("recommend a quick prototype for a hackathon")
    assert chat.state.answers == {"app_kind": "prototype", "project_size": "small"}
    assert chat.state.sources["project_size"] == "inferred"
    assert chat.asking == "concurrency"
    chat.say("back")
    assert chat.asking == "app_kind"
    assert chat.state.answers == {}
    chat.say("ml")
    assert chat.state.answers == {"app_kind": "ml_model"}


def test_controls_and_doubt_in_words_of_their_own(chat: Transcript) -> None:
    """No control phrase names these; the slot reader's intent group hears what they do."""
    chat.say("recommend")
    chat.say("api")
    second = chat.asking
    chat.say("hmm, we have not decided that yet")
    assert chat.state.answers[second or ""] is None  # unsure: left unknown, as a skip
    third = chat.asking
    assert third not in (None, second)
    chat.say("ugh, take me back one")
    assert chat.asking == second
    assert second not in chat.state.answers


def test_a_plain_statement_is_not_taken_for_a_control(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("api")
    chat.say("we run it behind a vpn for 12 people")
    assert chat.state.phase == "asking"
    assert len(chat.state.answers) >= 1


def test_restart_starts_over(chat: Transcript) -> None:
    chat.say("recommend we build a json api")
    chat.say("yes")
    chat.say("restart")
    assert chat.state.answers == {}
    assert chat.asking == "app_kind"


def test_cancel_ends_the_dialog_and_facts_still_work(chat: Transcript) -> None:
    chat.say("cancel")
    assert "nothing to cancel" in chat.text
    chat.say("recommend")
    chat.say("cancel")
    assert chat.state.phase == "idle"
    assert chat.asking is None
    chat.say("1")
    assert chat.state.phase == "idle"  # a number no longer answers anything
    chat.say("is fastapi faster?")
    assert chat.replies[0].fact is not None
    assert chat.replies[0].fact.id == "performance"


def test_why_and_help_explain_and_re_ask(chat: Transcript, kb: KnowledgeBase) -> None:
    chat.say("recommend")
    chat.say("api")
    pending = chat.asking
    assert pending is not None
    chat.say("why")
    assert "Why I ask:" in chat.text
    assert kb.dialog.factor(pending).why in chat.text  # the why of the question on screen
    assert chat.asking == pending
    chat.say("help")
    assert "recommend" in chat.text
    assert chat.asking == pending
    assert chat.state.answers == {"app_kind": "api"}


def test_why_after_the_verdict_explains_the_scores(chat: Transcript) -> None:
    chat.say("recommend a jinja website for a few users, team new to async")
    finish(chat, "no", "minimal", "small")
    chat.say("why")
    assert "Flask" in chat.text
    assert "Server-rendered HTML and templates" in chat.text


def test_a_fact_question_mid_dialog_is_answered_then_the_question_re_asked(
    chat: Transcript,
) -> None:
    chat.say("recommend")
    chat.say("api")
    before, pending = chat.state.answers, chat.asking
    assert pending is not None
    chat.say("does flask support websockets?")
    assert chat.replies[0].fact is not None
    assert chat.replies[0].fact.id == "realtime"
    assert chat.asking == pending
    assert chat.state.answers == before


def test_unintelligible_answers_list_the_options_then_only_numbers(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("purple monkey dishwasher")
    assert "didn't understand" in chat.text
    assert chat.asking == "app_kind"
    question = next(r.question for r in chat.replies if r.question is not None)
    assert not question.numbered_only
    chat.say("banana")
    question = next(r.question for r in chat.replies if r.question is not None)
    assert question.numbered_only
    assert "just a number" in chat.text
    chat.say("3")
    assert chat.state.answers == {"app_kind": "ml_model"}
    assert chat.state.misses == 0


def test_a_long_answer_fills_other_factors_too(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("an ml api serving thousands of users")
    assert chat.state.answers["app_kind"] == "ml_model"
    assert chat.state.answers["concurrency"] == "high"
    assert "From your answer: high concurrency" in chat.text
    assert chat.asking not in (None, "app_kind", "concurrency")  # neither is asked again


def test_story_negation_and_longest_phrase_win(chat: Transcript) -> None:
    chat.say("recommend: a rest api, we don't need swagger docs, and we're new to asyncio")
    assert chat.state.answers == {
        "app_kind": "api",
        "validation_docs": "not_needed",
        "async_familiarity": "new",
    }


def test_conflicting_story_leaves_the_factor_to_ask(chat: Transcript) -> None:
    chat.say("recommend: a jinja website that is also a json api")
    assert "app_kind" not in chat.state.answers
    assert chat.asking == "app_kind"


def test_recommend_mid_dialog_starts_again_with_the_new_story(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("api")
    chat.say("recommend we serve a tensorflow model")
    assert chat.state.answers == {"app_kind": "ml_model"}


def test_idle_dialog_expires_from_the_stored_time(chat: Transcript, clock: Clock) -> None:
    chat.say("recommend")
    chat.say("api")
    pending = chat.asking
    assert pending is not None
    clock.advance(3599)
    chat.say("yes")
    assert set(chat.state.answers) == {"app_kind", pending}  # still in time: answered
    assert chat.state.answers[pending] is not None
    clock.advance(3601)
    chat.say("yes")
    assert "timed out after 60 minutes" in chat.text
    assert chat.state.phase == "idle"
    assert chat.state.answers == {}


def test_expiry_uses_a_configurable_timeout(advisor: Advisor, clock: Clock) -> None:
    short = Advisor(
        advisor.kb, advisor.store, matcher=advisor.matcher, clock=clock, idle_timeout=60
    )
    chat = Transcript(short)
    chat.say("recommend")
    clock.advance(61)
    chat.say("api")
    assert "timed out after 1 minutes" in chat.text


def test_button_clicks_answer_the_pending_question_only(chat: Transcript) -> None:
    chat.say("recommend")
    chat.click("app_kind", "api")
    assert chat.state.answers == {"app_kind": "api"}
    pending = chat.asking
    assert pending not in (None, "app_kind")
    state = chat.state
    chat.click("app_kind", "web_app")  # an old button, clicked again
    assert "already answered" in chat.text
    assert chat.state == state.model_copy(update={"updated_at": chat.state.updated_at})
    chat.click(pending, None)  # the skip button of the question on screen
    assert chat.state.answers == {"app_kind": "api", pending: None}
    assert chat.asking is not None
    chat.click(chat.asking, "nonsense")
    assert "no longer offered" in chat.text


def test_did_you_mean_then_a_number_picks_the_fact(chat: Transcript, near_tie: NearTie) -> None:
    chat.say(near_tie.text)
    assert chat.replies[0].kind == "did_you_mean"
    ids = [f.id for f in chat.replies[0].suggestions]
    chat.say("2")
    assert chat.replies[0].fact is not None
    assert chat.replies[0].fact.id == ids[1]


def test_conversations_of_two_users_are_separate(advisor: Advisor) -> None:
    alice, bob = Transcript(advisor, "UALICE"), Transcript(advisor, "UBOB")
    alice.say("recommend")
    bob.say("is flask dead?")
    assert bob.state.phase == "idle"
    alice.say("api")
    assert alice.state.answers == {"app_kind": "api"}


def test_an_answer_to_a_later_question_is_kept_for_later(
    chat: Transcript, kb: KnowledgeBase
) -> None:
    chat.say("recommend a json api for a few users")
    pending = chat.asking
    assert pending not in (None, "control")
    chat.say("batteries included")  # answers the control question, not this one
    assert "Noted for later: more built in" in chat.text
    assert chat.state.answers["control"] == "batteries"
    assert chat.asking == pending
    asked = answer_what_is_asked(chat, FLASK_LEANING)  # keeps the verdict open to the end
    assert asked[0] == pending
    assert "control" not in asked  # control is not asked again
    assert set(chat.state.answers) == {f.id for f in kb.dialog.factors}  # though all are done
    assert chat.state.answers["control"] == "batteries"


def test_ambiguous_short_answers_are_not_filed_elsewhere(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("api")
    chat.say("purple monkey")  # matches no option anywhere
    assert "didn't understand" in chat.text
    assert set(chat.state.answers) == {"app_kind"}


def test_the_counter_stays_put_while_answers_are_noted_for_later(chat: Transcript) -> None:
    chat.say("recommend")
    assert "(1/6)" in chat.text
    chat.say("minimal")  # answers `control`, not the question on screen
    assert "Noted for later" in chat.text
    assert "(1/5)" in chat.text  # still the first question; one fewer to come
    chat.say("batteries included please")  # the same factor again: nothing new noted
    chat.say("api")
    assert chat.asking == "concurrency"
    assert "(2/" in chat.text


def test_back_at_the_first_question_says_so_and_stays(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("minimal")  # noted for later
    chat.say("back")
    assert "first question" in chat.text
    assert chat.asking == "app_kind"
    assert chat.state.answers["control"] == "minimal_core"  # a noted answer is kept


def test_a_bare_recommend_midway_asks_before_starting_over(chat: Transcript) -> None:
    chat.say("recommend")
    chat.say("api")
    pending = chat.asking
    assert pending is not None
    chat.say("recommend")
    assert "`restart`" in chat.text
    assert chat.asking == pending
    assert chat.state.answers["app_kind"] == "api"
    chat.say("recommend a website with jinja templates")  # with a story: a new start
    assert chat.state.answers["app_kind"] == "web_app"


def test_an_existing_codebase_is_remembered_and_the_verdict_speaks_to_it(
    chat: Transcript,
) -> None:
    chat.say("recommend our flask app renders jinja templates for 30 internal users")
    assert "an existing Flask codebase" in chat.text
    assert chat.state.existing == "flask"
    while chat.asking is not None:
        chat.say("skip")
    rec = chat.verdict().recommendation
    assert rec is not None
    assert rec.existing == "flask"
    assert "Stay on Flask" in chat.text
    chat.say("recommend migrating from flask: a public json api for 10k concurrent users")
    chat.say("yes")
    while chat.asking is not None:
        chat.say("yes")
    assert "moving to FastAPI" in chat.text


def test_a_correction_in_words_replaces_the_earlier_answer(chat: Transcript) -> None:
    chat.say("recommend we serve a pytorch model to 10k users")
    assert chat.state.answers["app_kind"] == "ml_model"
    chat.say("no, it's a server rendered website with jinja templates")
    assert "Got it: a web app with server-rendered pages, not serving an ML model." in chat.text
    assert chat.state.answers["app_kind"] == "web_app"
    assert chat.state.answers["concurrency"] == "high"
    pending = chat.asking
    assert pending is not None
    chat.say("no")  # a plain "no" still answers the question on screen
    assert pending in chat.state.answers
    assert chat.state.answers["app_kind"] == "web_app"


def test_a_correction_drops_what_was_inferred_from_the_old_answer(chat: Transcript) -> None:
    chat.say("recommend a quick prototype")
    assert chat.state.answers["project_size"] == "small"  # inferred from a prototype
    chat.say("actually it's a json api for our mobile app")
    assert chat.state.answers["app_kind"] == "api"
    assert "project_size" not in chat.state.answers


def test_a_yes_to_an_either_or_question_is_not_noted_for_another(chat: Transcript) -> None:
    """ "yes" answers several yes/no questions; at "minimal core or more built in?" it is not
    taken as the answer to one of them."""
    chat.say("recommend a json api, the team knows asyncio well")
    assert chat.asking == "control"
    before = dict(chat.state.answers)
    chat.say("yes")
    assert "Noted for later" not in chat.text
    assert chat.state.answers == before
    assert chat.asking == "control"
