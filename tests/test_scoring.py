"""Project profiles and the verdicts knowledge-source.md's "when to choose which" implies."""

from __future__ import annotations

import pytest

from bot.core.wording import verdict_text
from bot.dialog.scoring import most_decisive, recommend, settled
from bot.kb.dialog_models import DISPLAY_NAME
from bot.kb.loader import KnowledgeBase

# app_kind, concurrency, validation_docs, async_familiarity, control, project_size -> verdict
PROFILES = [
    # clear Flask: server-rendered pages, modest traffic, new to async, minimal core
    (("web_app", "low", "not_needed", "new", "minimal_core", "small"), "flask", "strong"),
    (("prototype", "low", None, "new", None, None), "flask", "strong"),
    (("web_app", None, "not_needed", "new", "minimal_core", None), "flask", "strong"),
    (("prototype", None, None, None, "minimal_core", None), "flask", "leaning"),
    # clear FastAPI: ML serving / APIs with concurrency, validation, async-savvy team
    (("ml_model", "high", "needed", "comfortable", "batteries", "large"), "fastapi", "strong"),
    (("api", "high", "needed", "comfortable", None, None), "fastapi", "strong"),
    (("ml_model", None, "needed", "comfortable", None, "large"), "fastapi", "strong"),
    (("api", "high", "needed", None, "batteries", "large"), "fastapi", "strong"),
    (("web_app", "high", "needed", "comfortable", "batteries", "large"), "fastapi", "strong"),
    (("api", "high", None, "new", None, None), "fastapi", "leaning"),
    (("web_app", None, None, "comfortable", None, None), "flask", "toss-up"),
]

BALANCED = [
    ("api", "high", "not_needed", "new", "minimal_core", "small"),
    ("web_app", "high", None, None, None, None),
    ("prototype", None, "needed", None, None, None),
    (None, None, None, None, None, None),
]


def _answers(kb: KnowledgeBase, values: tuple[str | None, ...]) -> dict[str, str | None]:
    return dict(zip([f.id for f in kb.dialog.factors], values, strict=True))


@pytest.mark.parametrize(("values", "framework", "strength"), PROFILES)
def test_profiles_follow_the_source(
    kb: KnowledgeBase, values: tuple[str | None, ...], framework: str, strength: str
) -> None:
    rec = recommend(kb.dialog, _answers(kb, values))
    assert rec.framework == framework
    assert rec.strength == strength
    assert len(rec.reasons) >= 2
    for reason in rec.reasons:
        assert reason.fact_id in kb.facts
    tied = [r for r in rec.reasons if r.factor is not None]
    assert tied, "at least one reason rests on the user's own answer"
    assert all(rec.answers[r.factor] == r.option for r in tied if r.factor)
    if strength != "toss-up":
        assert rec.confidence >= kb.dialog.strength.leaning


@pytest.mark.parametrize("values", BALANCED)
def test_balanced_profiles_read_as_close_calls(
    kb: KnowledgeBase, values: tuple[str | None, ...]
) -> None:
    rec = recommend(kb.dialog, _answers(kb, values))
    assert rec.strength == "toss-up"
    assert rec.confidence < 0.6
    clear = min(
        recommend(kb.dialog, _answers(kb, v)).confidence for v, _, s in PROFILES if s == "strong"
    )
    assert rec.confidence < clear


def test_everything_unknown_still_gives_a_reasoned_verdict(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, {})
    assert rec.framework == kb.dialog.tie_break
    assert rec.confidence == 0.5
    assert len(rec.reasons) == 2
    assert all(r.factor is None for r in rec.reasons)


def test_flip_names_the_answer_that_changes_the_verdict(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, _answers(kb, ("api", "low", "not_needed", "new", None, None)))
    assert rec.framework == "flask"
    assert rec.flip is not None
    flipped = recommend(kb.dialog, {**rec.answers, rec.flip.factor: rec.flip.option})
    assert flipped.framework == "fastapi"
    assert rec.flip.text.startswith("If ")
    assert rec.flip.text.endswith("FastAPI would win.")


def test_no_flip_when_no_single_answer_changes_it(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, _answers(kb, PROFILES[4][0]))
    assert rec.flip is None


def test_trade_off_is_the_strongest_point_against(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, _answers(kb, ("ml_model", "high", None, "new", None, None)))
    assert rec.framework == "fastapi"
    assert rec.trade_off is not None
    assert rec.trade_off.factor == "async_familiarity"


def test_confidence_grows_with_every_agreeing_answer(kb: KnowledgeBase) -> None:
    steps = ["ml_model", "high", "needed", "comfortable", "batteries", "large"]
    confidences = [
        recommend(kb.dialog, _answers(kb, (*steps[:n], *[None] * (6 - n)))).confidence
        for n in range(1, 7)
    ]
    assert confidences == sorted(confidences)
    assert confidences[0] < confidences[-1] == 1.0


def test_the_flip_named_is_the_one_that_flips(kb: KnowledgeBase) -> None:
    """The issue's own example: an HTML site, high traffic, docs, async, a minimal core, small.
    The flip must name an answer that is not the user's and gives the other framework."""
    answers = {
        "app_kind": "web_app",
        "concurrency": "high",
        "validation_docs": "needed",
        "async_familiarity": "new",
        "control": "minimal_core",
        "project_size": "small",
    }
    rec = recommend(kb.dialog, answers)
    assert rec.flip is not None
    assert answers[rec.flip.factor] != rec.flip.option
    flipped = recommend(kb.dialog, {**answers, rec.flip.factor: rec.flip.option})
    assert flipped.framework != rec.framework
    assert not flipped.tie
    option = kb.dialog.factor(rec.flip.factor).option(rec.flip.option)
    assert rec.flip.text == f"If {option.flip}, {DISPLAY_NAME[flipped.framework]} would win."


def test_nothing_said_is_a_toss_up_with_what_would_tip_it(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, {})
    assert rec.tie
    assert (rec.confidence, rec.strength) == (0.5, "toss-up")
    assert rec.trade_off is None
    assert {r.fact_id for r in rec.reasons} != set()
    assert rec.flip is not None
    assert rec.tip is not None
    assert {rec.flip.text.split()[-3], rec.tip.text.split()[-3]} == {"Flask", "FastAPI"}
    text = verdict_text(rec)
    assert "A toss-up" in text
    assert "Nothing you told me tips it either way" in text
    assert "slightly in favour" not in text


def test_balanced_answers_are_a_toss_up_too(kb: KnowledgeBase) -> None:
    rec = recommend(kb.dialog, {"app_kind": "web_app", "concurrency": "high"})  # 3 and 3
    assert rec.tie
    assert [r.factor for r in rec.reasons] == ["app_kind", "concurrency"]  # one each way


def test_settled_only_when_no_open_answer_could_change_the_winner(kb: KnowledgeBase) -> None:
    assert not settled(kb.dialog, {})
    assert settled(
        kb.dialog,
        {"app_kind": "ml_model", "concurrency": "high", "async_familiarity": "comfortable"},
    )
    open_answers = {"app_kind": "ml_model", "concurrency": "high"}  # 6; the rest could give 6
    assert not settled(kb.dialog, open_answers)


def test_the_question_asked_next_is_the_one_that_can_move_the_verdict_most(
    kb: KnowledgeBase,
) -> None:
    """With FastAPI ahead, a question whose answer can push hardest toward Flask comes
    first; with nothing known, the one that can push furthest either way."""
    dialog = kb.dialog
    open_factors = [f for f in dialog.order if f != "app_kind"]
    ahead = most_decisive(dialog, {"app_kind": "ml_model"}, open_factors)
    toward_flask = {
        f.id: max(
            sum(e.weight if e.favours == "flask" else -e.weight for e in o.effects)
            for o in f.options
        )
        for f in dialog.factors
        if f.id in open_factors
    }
    assert toward_flask[ahead] == max(toward_flask.values())
    assert toward_flask[ahead] > toward_flask[open_factors[0]]  # not simply the yaml order
    assert most_decisive(dialog, {}, dialog.order) == "app_kind"
