"""Turn a set of answers into a verdict a senior engineer would sign.

Each answered option adds its weights to Flask or FastAPI (knowledge/dialog.yaml). The verdict
is the side with more weight; confidence is how much of the winner's *possible* weight the
margin represents, so unanswered questions keep confidence down and a balanced profile reads
as a toss-up. Reasons are the winner's weightiest effects, each tied to the answer and the fact
behind it; the loser's weightiest effect is kept as the trade-off, and the one change of answer
that would flip the verdict is named, because that is what people ask next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.kb.dialog_models import DISPLAY_NAME, FRAMEWORKS, DialogFile, Effect, Framework

Strength = Literal["strong", "leaning", "toss-up"]
Answers = Mapping[str, str | None]


@dataclass(frozen=True)
class Reason:
    text: str
    fact_id: str
    factor: str | None  # None: a general reason, not tied to an answer
    option: str | None


@dataclass(frozen=True)
class Flip:
    factor: str
    option: str
    text: str  # "If your team were comfortable with async and type hints, FastAPI would win."


@dataclass(frozen=True)
class Recommendation:
    framework: Framework
    confidence: float
    strength: Strength
    reasons: tuple[Reason, ...]
    trade_off: Reason | None
    flip: Flip | None
    answers: dict[str, str | None]
    scores: dict[Framework, float]


@dataclass(frozen=True)
class _Tally:
    framework: Framework
    confidence: float
    scores: dict[Framework, float]
    margin: float


def recommend(dialog: DialogFile, answers: Answers) -> Recommendation:
    """The verdict for `answers` (factor -> option id; None or absent: unknown)."""
    tally = _tally(dialog, answers)
    winner = tally.framework
    loser: Framework = "fastapi" if winner == "flask" else "flask"
    for_winner = _effects(dialog, answers, winner)
    reasons = [Reason(e.reason, e.fact, f, o) for f, o, e in for_winner]
    used = {r.fact_id for r in reasons}
    for effect in dialog.fallback_reasons[winner]:
        if len(reasons) >= 2:
            break
        if effect.fact not in used:
            reasons.append(Reason(effect.reason, effect.fact, None, None))
            used.add(effect.fact)
    against = _effects(dialog, answers, loser)
    trade_off = None
    if against:
        factor, option, effect = against[0]
        trade_off = Reason(effect.reason, effect.fact, factor, option)
    return Recommendation(
        framework=winner,
        confidence=tally.confidence,
        strength=_strength(dialog, tally.confidence),
        reasons=tuple(reasons),
        trade_off=trade_off,
        flip=_flip(dialog, answers, tally),
        answers={f.id: answers.get(f.id) for f in dialog.factors},
        scores=tally.scores,
    )


def _tally(dialog: DialogFile, answers: Answers) -> _Tally:
    scores: dict[Framework, float] = dict.fromkeys(FRAMEWORKS, 0.0)
    for factor in dialog.factors:
        chosen = answers.get(factor.id)
        if chosen is None:
            continue
        for effect in factor.option(chosen).effects:
            scores[effect.favours] += effect.weight
    margin = scores["fastapi"] - scores["flask"]
    winner: Framework = dialog.tie_break
    if margin > 0:
        winner = "fastapi"
    elif margin < 0:
        winner = "flask"
    capacity = _capacity(dialog, winner)
    confidence = 0.5 + 0.5 * abs(margin) / capacity if capacity else 0.5
    return _Tally(winner, round(min(1.0, confidence), 2), scores, abs(margin))


def _capacity(dialog: DialogFile, framework: Framework) -> float:
    """The most weight every factor together could give `framework`."""
    return sum(
        max(sum(e.weight for e in o.effects if e.favours == framework) for o in factor.options)
        for factor in dialog.factors
    )


def _effects(
    dialog: DialogFile, answers: Answers, framework: Framework
) -> list[tuple[str, str, Effect]]:
    """Effects of the given answers that favour `framework`, weightiest first (stable)."""
    found = [
        (factor.id, option_id, effect)
        for factor in dialog.factors
        if (option_id := answers.get(factor.id)) is not None
        for effect in factor.option(option_id).effects
        if effect.favours == framework
    ]
    return sorted(found, key=lambda item: -item[2].weight)


def _strength(dialog: DialogFile, confidence: float) -> Strength:
    if confidence >= dialog.strength.strong:
        return "strong"
    if confidence >= dialog.strength.leaning:
        return "leaning"
    return "toss-up"


def _flip(dialog: DialogFile, answers: Answers, current: _Tally) -> Flip | None:
    """The single change of answer that flips the verdict most decisively, if there is one.

    Changing an answer the user gave comes before answering a skipped question, because that
    is the assumption the user is most likely to revisit.
    """
    best: tuple[tuple[int, float], Flip] | None = None
    for factor in dialog.factors:
        given = answers.get(factor.id)
        for option in factor.options:
            if option.id == given:
                continue
            changed = {**answers, factor.id: option.id}
            tally = _tally(dialog, changed)
            if tally.framework == current.framework:
                continue
            rank = (0 if given is not None else 1, -tally.margin)
            if best is None or rank < best[0]:
                name = DISPLAY_NAME[tally.framework]
                flip = Flip(factor.id, option.id, f"If {option.flip}, {name} would win.")
                best = (rank, flip)
    return best[1] if best else None
