"""Prove the dialog: every combination of answers ends in a sound verdict.

With six factors of two to four options, plus "unknown" for each, there are about a thousand
combinations: few enough to check every one on every `advisor check`, so no edit to dialog.yaml
can ship a path that ends without a verdict, with fewer than two reasons, or with a confidence
outside 0.5-1.0. Options that never change any verdict are reported as dead weight, and control
words that an option would shadow are errors, because the user could never give that answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.dialog.controls import CONTROL_PHRASES
from bot.dialog.scoring import Recommendation, recommend, winner
from bot.errors import Problem
from bot.kb.dialog_models import DialogFile
from bot.kb.source import SourceFile
from bot.matching.text import clean_for_matching


@dataclass
class Proof:
    combinations: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def prove(dialog: DialogFile, source: SourceFile) -> Proof:
    proof = Proof()
    factor_index = {f.id: i for i, f in enumerate(dialog.factors)}
    verdicts: dict[tuple[str | None, ...], str] = {}
    for combo in _combinations(dialog):
        proof.combinations += 1
        answers = dict(zip(factor_index, combo, strict=True))
        rec = recommend(dialog, answers)
        verdicts[combo] = rec.framework
        where = ", ".join(f"{k}={v or 'unknown'}" for k, v in answers.items())
        if len(rec.reasons) < 2:
            proof.errors.append(
                source.problem(("factors",), f"verdict with fewer than two reasons for {where}")
            )
        if not 0.5 <= rec.confidence <= 1.0:
            proof.errors.append(
                source.problem(
                    ("factors",), f"confidence {rec.confidence} out of range for {where}"
                )
            )
        proof.errors += (
            source.problem(("factors",), f"{p} for {where}") for p in _flips(dialog, answers, rec)
        )
    proof.warnings += _dead_options(dialog, source, verdicts)
    proof.errors += _control_collisions(dialog, source)
    return proof


def _flips(
    dialog: DialogFile, answers: dict[str, str | None], rec: Recommendation
) -> Iterator[str]:
    """The flip is true: the changed answer makes the other framework win outright; and no
    flip means no single changed answer does. A tie is said to be one, at confidence 0.5."""
    other = "fastapi" if rec.framework == "flask" else "flask"
    if rec.tie and (rec.confidence != 0.5 or rec.strength != "toss-up"):
        yield "a tie not called a toss-up at confidence 0.5"
    winners = set()
    for factor in dialog.factors:
        for option in factor.options:
            changed = {**answers, factor.id: option.id}
            if option.id != answers.get(factor.id) and winner(dialog, changed) == other:
                winners.add((factor.id, option.id))
    if rec.flip is None and winners:
        yield f"no flip named, yet {sorted(winners)[0]} would give {other}"
    if rec.flip is not None and (rec.flip.factor, rec.flip.option) not in winners:
        yield f"the flip {rec.flip.factor}={rec.flip.option} does not give {other}"


def _combinations(dialog: DialogFile) -> Iterator[tuple[str | None, ...]]:
    choices = [[None, *(o.id for o in f.options)] for f in dialog.factors]
    return itertools.product(*choices)


def _dead_options(
    dialog: DialogFile, source: SourceFile, verdicts: dict[tuple[str | None, ...], str]
) -> Iterator[Problem]:
    """An option is dead weight when choosing it never changes the verdict from "unknown"."""
    for f_index, factor in enumerate(dialog.factors):
        for o_index, option in enumerate(factor.options):
            changes = any(
                verdicts[combo] != verdicts[(*combo[:f_index], option.id, *combo[f_index + 1 :])]
                for combo in verdicts
                if combo[f_index] is None
            )
            if not changes:
                yield source.problem(
                    ("factors", f_index, "options", o_index, "id"),
                    f"warning: option '{option.id}' of '{factor.id}' never changes a verdict",
                )


def _control_collisions(dialog: DialogFile, source: SourceFile) -> Iterator[Problem]:
    controls = {
        clean_for_matching(phrase, 200): control.value
        for control, phrases in CONTROL_PHRASES.items()
        for phrase in phrases
    }
    for f_index, factor in enumerate(dialog.factors):
        for o_index, option in enumerate(factor.options):
            for kind in ("replies", "aliases"):
                for a_index, alias in enumerate(getattr(option, kind)):
                    cleaned = clean_for_matching(alias, 200)
                    loc = ("factors", f_index, "options", o_index, kind, a_index)
                    if cleaned in controls:
                        yield source.problem(
                            loc,
                            f"'{alias}' is the control word '{controls[cleaned]}': "
                            "a user typing it would never answer this question",
                        )
                    elif cleaned.isdigit():
                        yield source.problem(
                            loc, f"'{alias}' is a number: numbers choose options by position"
                        )
