"""Turn a set of answers into a verdict a senior engineer would sign.

Each answered option adds its weights to Flask or FastAPI (knowledge/dialog.yaml). The verdict
is the side with more weight; confidence is how much of the winner's *possible* weight the
margin represents, so unanswered questions keep confidence down and a balanced profile reads
as a toss-up. Reasons are the winner's weightiest effects, each tied to the answer and the fact
behind it; the loser's weightiest effect is kept as the trade-off, and the one change of answer
that would flip the verdict is named, because that is what people ask next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    # Nothing said tips it either way: `framework` is only dialog.yaml's tie_break, the words
    # say it is a toss-up, and `tip` is what would tip it the other way.
    tie: bool = False
    tip: Flip | None = None
    # The framework a codebase already runs on, when the story said: "stay on" or "move to".
    existing: Framework | None = None


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
    tie = tally.margin == 0
    if tie:  # one reason each way, and nothing traded off: neither side is chosen
        reasons = [_strongest(dialog, answers, side) for side in FRAMEWORKS]
        trade_off = None
    return Recommendation(
        framework=winner,
        confidence=tally.confidence,
        strength=_strength(dialog, tally.confidence),
        reasons=tuple(reasons),
        trade_off=trade_off,
        flip=flip(dialog, answers, loser),
        answers={f.id: answers.get(f.id) for f in dialog.factors},
        scores=tally.scores,
        tie=tie,
        tip=flip(dialog, answers, winner) if tie else None,
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


def winner(dialog: DialogFile, answers: Answers) -> Framework | None:
    """Who wins outright on these answers; None for a tie."""
    tally = _tally(dialog, answers)
    return tally.framework if tally.margin else None


def settled(dialog: DialogFile, answers: Answers) -> bool:
    """No answers to the questions still open could change who wins (a tie counts as a
    change): asking them would only move the confidence."""
    tally = _tally(dialog, answers)
    if tally.margin == 0:
        return False
    leader: Framework = tally.framework
    other: Framework = "fastapi" if leader == "flask" else "flask"
    swing = 0.0  # the most the open questions could move toward the other side
    for factor in dialog.factors:
        if factor.id in answers:
            continue
        nets = [_net(option.effects, other) for option in factor.options]
        swing += max(0.0, *nets)
    return swing < tally.margin


def most_decisive(dialog: DialogFile, answers: Answers, open_factors: Sequence[str]) -> str:
    """Of the open factors, the one whose answer can push furthest toward the side now
    behind (either way when neither leads, since any push breaks a tie); dialog.yaml's order
    among equals."""
    tally = _tally(dialog, answers)
    behind: Framework | None = None
    if tally.margin:
        behind = "fastapi" if tally.framework == "flask" else "flask"

    def push(factor_id: str) -> float:
        options = dialog.factor(factor_id).options
        if behind is None:
            return max(abs(_net(o.effects, "fastapi")) for o in options)
        return max(_net(o.effects, behind) for o in options)

    return min(open_factors, key=lambda f: (-push(f), open_factors.index(f)))


def _net(effects: Sequence[Effect], side: Framework) -> float:
    return sum(e.weight if e.favours == side else -e.weight for e in effects)


def _strongest(dialog: DialogFile, answers: Answers, side: Framework) -> Reason:
    """The weightiest reason for `side`: from an answer if one favours it, else general."""
    found = _effects(dialog, answers, side)
    if found:
        factor, option, effect = found[0]
        return Reason(effect.reason, effect.fact, factor, option)
    general = dialog.fallback_reasons[side][0]
    return Reason(general.reason, general.fact, None, None)


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


def flip(dialog: DialogFile, answers: Answers, to: Framework) -> Flip | None:
    """The single change of answer that makes `to` win outright, most decisively; None when
    no single change does. Changing an answer the user gave comes before answering a skipped
    question, because that is the assumption the user is most likely to revisit."""
    best: tuple[tuple[int, float, int], Flip] | None = None
    for f_index, factor in enumerate(dialog.factors):
        given = answers.get(factor.id)
        for option in factor.options:
            if option.id == given:
                continue
            tally = _tally(dialog, {**answers, factor.id: option.id})
            if tally.framework != to or tally.margin == 0:
                continue  # not won outright: a tie is not a flip
            rank = (0 if given is not None else 1, -tally.margin, f_index)
            if best is None or rank < best[0]:
                text = f"If {option.flip}, {DISPLAY_NAME[to]} would win."
                best = (rank, Flip(factor.id, option.id, text))
    return best[1] if best else None
