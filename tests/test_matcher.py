"""The matcher's behaviour on the kinds of input the issue names; accuracy lives in test_eval."""

from __future__ import annotations

import pytest

from bot.matching.matcher import Matcher


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


def test_catch_all_does_not_swallow_specific_comparisons(matcher: Matcher) -> None:
    assert matcher.match("flask vs fastapi performance").fact_id == "performance"
    assert matcher.match("flask vs fastapi for websockets").fact_id == "realtime"


def test_how_to_penalty_is_lifted_by_a_comparison(matcher: Matcher) -> None:
    assert matcher.match("how do i enable cors in flask").fact_id is None
    assert matcher.match("how do flask and fastapi compare on validation").fact_id == (
        "data_validation"
    )


def test_ambiguous_question_offers_candidates(matcher: Matcher) -> None:
    result = matcher.match("can i stream llm tokens to the client")
    assert result.status == "did_you_mean"
    assert {c.fact_id for c in result.candidates} >= {"realtime", "ml_serving"}
    assert result.fact_id is None
    assert result.alternatives == result.candidates


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


def test_only_the_first_characters_are_scored(matcher: Matcher) -> None:
    head = "does fastapi have swagger docs? "
    huge = head + "zzqx " * 20_000
    assert matcher.match(huge).fact_id == "documentation"
    assert matcher.reader.read(huge).tokens == matcher.reader.read(head + "zzqx " * 80).tokens
