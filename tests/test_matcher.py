"""The matcher's behaviour on the kinds of input the issue names; accuracy lives in test_eval."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.matching.model import Layout, LinearModel
from bot.matching.text import MAYBE_INVISIBLE, clean_for_matching, clean_in_full
from tests.conftest import NearTie


@pytest.mark.parametrize(
    ("question", "fact_id"),
    [
        ("does fastapi have swagger docs?", "documentation"),
        ("is fastapi faster than flask", "performance"),
        ("can i do websockets in flask", "realtime"),
        ("jinja templates in fastapi?", "templating"),
        ("serve a pytorch model", "ml_serving"),
        ("flask or fastapi?", "overall"),
        ("fastapi vs flask", "overall"),
    ],
)
def test_plain_questions_land_on_their_fact(matcher: Matcher, question: str, fact_id: str) -> None:
    result = matcher.match(question)
    assert result.status == "answered"
    assert result.fact_id == fact_id


@pytest.mark.parametrize(
    ("question", "fact_id"),
    [
        ("does fastpai hve swager docs", "documentation"),
        ("flask preformance", "performance"),
        ("dependancy injection in flsk", "dependency_injection"),
        ("websokets suport", "realtime"),
        ("scalabilty of fastapi", "scalability"),
    ],
)
def test_typos_are_corrected_against_the_vocabulary(
    matcher: Matcher, question: str, fact_id: str
) -> None:
    assert matcher.match(question).fact_id == fact_id


def test_synonyms_meet_swagger_openapi_redoc(matcher: Matcher) -> None:
    for word in ("swagger", "openapi", "redoc", "api docs"):
        assert matcher.match(f"does fastapi have {word}").fact_id == "documentation"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "thanks!",
        "good morning team",
        "how do i set a cookie in flask",
        "fastapi cors error",
        "getting a 422 unprocessable entity from fastapi",
        "django vs rails",
        "asdfghjkl",
        "",
        "   ",
        "🔥🔥🔥",
        "<!channel> <!here>",
        "'; DROP TABLE facts; --",
    ],
)
def test_out_of_scope_gets_no_fact(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).fact_id is None


def test_slack_markup_does_not_change_the_answer(matcher: Matcher) -> None:
    plain = matcher.match("is fastapi faster?")
    marked = matcher.match("<@U0LAN0Z89> is <https://fastapi.tiangolo.com|fastapi> faster? :eyes:")
    assert marked == plain


def test_naming_both_does_not_swallow_the_aspect_asked(matcher: Matcher) -> None:
    assert matcher.match("flask vs fastapi performance").fact_id == "performance"
    assert matcher.match("flask vs fastapi for websockets").fact_id == "realtime"
    assert matcher.match("flask vs fastapi, which has better api docs?").fact_id == (
        "documentation"
    )


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("hi", "talk"),
        ("thanks a lot!", "talk"),
        ("sanic or fastapi?", "other_pair"),
        ("django vs flask for a blog", "other_pair"),
        ("how do i enable cors in flask", "howto"),
        ("fastapi returns 422 on my post request, what am i doing wrong", "howto"),
        ("", "empty"),
        ("what's a good laptop for coding", "offtopic"),
    ],
)
def test_what_is_not_a_fact_question_says_what_it_is(
    matcher: Matcher, text: str, route: str
) -> None:
    result = matcher.match(text)
    assert result.fact_id is None
    assert result.route == route


def test_a_comparison_of_how_they_do_something_is_ours(matcher: Matcher) -> None:
    assert matcher.match("how do flask and fastapi compare on validation").fact_id == (
        "data_validation"
    )


def test_a_near_tie_offers_candidates(matcher: Matcher, near_tie: NearTie) -> None:
    result = matcher.match(near_tie.text)
    assert result.status == "did_you_mean"
    assert {c.fact_id for c in result.candidates} == near_tie.facts
    assert result.fact_id is None
    assert result.alternatives == result.candidates


def test_the_decision_reads_probabilities_as_matching_yaml_says(kb: KnowledgeBase) -> None:
    """A hand-made model: one word for two facts equally, one for one fact, one not ours."""
    classes = ["performance", "learning_curve", "oos:howto", "talk"]
    rows = {"v:zzq": (3, 3, 0, 0), "v:qqx": (6, 0, 0, 0), "v:xqz": (0, 0, 9, 0)}
    weights = array("f", [w for row in rows.values() for w in row])
    layout = Layout.of(list(rows))
    matcher = Matcher(kb, LinearModel(classes, layout, weights, [0.0] * 4, []))
    tie = matcher.match("zzq")
    assert tie.status == "did_you_mean"
    assert {c.fact_id for c in tie.candidates} == {"performance", "learning_curve"}
    assert tie.candidates[0].score == tie.candidates[1].score
    speedy = matcher.match("qqx")
    assert (speedy.status, speedy.fact_id) == ("answered", "performance")
    assert 0 < speedy.score <= 100
    cookie = matcher.match("xqz")
    assert (cookie.status, cookie.route) == ("no_match", "howto")


def test_answer_alternatives_exclude_the_answer_and_are_ranked(matcher: Matcher) -> None:
    result = matcher.match("is flask scalable")
    assert result.fact_id == "scalability"
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(c.fact_id != "scalability" for c in result.alternatives)


def test_deterministic(matcher: Matcher) -> None:
    first = [matcher.match(q) for q in ("is flask dead", "swagger?", "hmm")]
    again = [matcher.match(q) for q in ("is flask dead", "swagger?", "hmm")]
    assert first == again


def test_a_huge_message_is_read_only_at_its_ends(matcher: Matcher) -> None:
    head = "does fastapi have swagger docs? "
    huge = head + "zzqx " * 20_000
    assert matcher.match(huge).fact_id == "documentation"
    assert matcher.reader.read(huge).tokens == matcher.reader.read(head + "zzqx " * 80).tokens
    tail = "zzqx " * 20_000 + "does fastapi have swagger docs?"
    assert matcher.match(tail).fact_id == "documentation"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
def test_the_shortcut_for_plain_text_cleans_as_the_full_way_does(text: str) -> None:
    assert clean_for_matching(text, 900) == clean_in_full(text, 900)


def test_every_invisible_character_is_caught_by_the_quick_check() -> None:
    """The quick check may flag visible characters too, never miss an invisible one."""
    import sys
    import unicodedata

    missed = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in {"Cf", "Cc", "Co", "Cs"}
        and chr(code) not in "\n\t"
        and not MAYBE_INVISIBLE.match(chr(code))
    ]
    assert missed == []


def test_invisible_characters_vanish_inside_words(matcher: Matcher) -> None:
    assert clean_for_matching("fast\u200bapi \u202eswagger\u2066 docs é", 900) == (
        "fastapi swagger docs é"
    )
