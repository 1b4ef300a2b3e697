"""The recommendation dialog as transitions on a DialogState: fill, ask, go back, conclude.

The engine decides what to ask next from the answers alone (order, inference and skips are
dialog.yaml data); the Advisor decides whether a message is an answer at all.
"""

from __future__ import annotations

import dataclasses
import secrets

from bot.core import wording
from bot.core.messages import OptionView, QuestionView, Reply
from bot.dialog.scoring import Recommendation, most_decisive, recommend
from bot.dialog.scoring import settled as settled_on
from bot.dialog.state import DialogState, Source
from bot.kb.dialog_models import FRAMEWORKS, DialogFile, Factor


class DialogEngine:
    def __init__(self, dialog: DialogFile) -> None:
        self.dialog = dialog
        self.factors = {factor.id: factor for factor in dialog.factors}

    def start(
        self, state: DialogState, filled: dict[str, str], existing: str | None = None
    ) -> list[Reply]:
        """Begin (or begin again), taking every factor a story already answered and the
        framework a codebase already runs on, if the story says."""
        state.phase, state.dialog = "asking", secrets.token_hex(4)
        state.answers, state.sources, state.history, state.asked = {}, {}, [], []
        state.pending, state.misses, state.go_on = None, 0, False
        state.existing = existing
        replies = [Reply("info", wording.START, extras={"event": "dialog_started"})]
        summaries = self.fill(state, filled, "story")
        if existing is not None:
            summaries.append(wording.existing_summary(existing))
        if summaries:
            replies.append(Reply("info", wording.filled_text(summaries, "message")))
        replies.append(self.advance(state))
        return replies

    def fill(self, state: DialogState, filled: dict[str, str], source: Source) -> list[str]:
        """Record answers in dialog order; returns what was understood, for the user to see."""
        summaries: list[str] = []
        for factor_id in self.dialog.order:
            option_id = filled.get(factor_id)
            if option_id is None or factor_id in state.answers:
                continue
            self.record(state, factor_id, option_id, source)
            summaries.append(self.factors[factor_id].option(option_id).summary)
        return summaries

    def record(
        self, state: DialogState, factor_id: str, option_id: str | None, source: Source
    ) -> None:
        state.answers[factor_id] = option_id
        state.sources[factor_id] = source
        state.history.append(factor_id)
        if state.pending == factor_id:
            state.pending, state.misses = None, 0

    def correct(self, state: DialogState, corrected: dict[str, str]) -> list[Reply]:
        """ "no, it's an API": earlier answers replaced, with what rested on them, and the
        dialog goes on from there (the verdict may now hinge on another question)."""
        notes = []
        for factor_id, option_id in corrected.items():
            factor = self.factors[factor_id]
            before = factor.option(str(state.answers.get(factor_id))).summary
            state.forget(factor_id)
            self.record(state, factor_id, option_id, "answer")
            notes.append(wording.corrected_text(factor.option(option_id).summary, before))
        for other in list(state.history):
            if state.sources.get(other) == "inferred":
                state.forget(other)
        return [Reply("info", " ".join(notes)), self.advance(state)]

    def advance(self, state: DialogState, *, all_questions: bool = False) -> Reply:
        """Ask the open question that can move the verdict most, or give the verdict: also as
        soon as no answer to the rest could change who wins (unless the user asked to hear
        them all)."""
        self._infer(state)
        settled = not all_questions and not state.go_on and settled_on(self.dialog, state.answers)
        open_factors = self.open_questions(state)
        if open_factors and not settled:
            state.phase = "asking"
            state.pending = most_decisive(self.dialog, state.answers, open_factors)
            return self.question(state)
        return self.conclude(state)

    def conclude(self, state: DialogState) -> Reply:
        """The verdict on what is known now."""
        state.phase, state.pending, state.misses = "done", None, 0
        rec = self.recommendation(state)
        text = wording.verdict_text(rec)
        if self.open_questions(state):
            text += "\n" + wording.SETTLED_EARLY
        return Reply("verdict", text, recommendation=rec)

    def open_questions(self, state: DialogState) -> list[str]:
        return [f for f in self.dialog.order if f not in state.answers]

    def _infer(self, state: DialogState) -> None:
        changed = True
        while changed:
            changed = False
            for factor in self.dialog.factors:
                if factor.id in state.answers:
                    continue
                for rule in factor.infer:
                    if state.answers.get(rule.when.factor) in rule.when.is_any:
                        self.record(state, factor.id, rule.value, "inferred")
                        changed = True
                        break

    def question(self, state: DialogState) -> Reply:
        assert state.pending is not None
        if state.pending not in state.asked:
            state.asked.append(state.pending)
        view = self.view(state)
        return Reply("question", wording.question_text(view), question=view)

    def view(self, state: DialogState) -> QuestionView:
        assert state.pending is not None
        factor = self.factors[state.pending]
        number = state.asked.index(state.pending) + 1 if state.pending in state.asked else 1
        remaining = sum(
            1
            for f in self.dialog.order
            if f not in state.answers and f not in state.asked and not self._inferable(f, state)
        )
        return QuestionView(
            factor=factor.id,
            prompt=factor.question,
            options=tuple(OptionView(o.id, o.label) for o in factor.options),
            why=factor.why,
            number=number,
            total=max(len(state.asked), number) + remaining,
            numbered_only=state.misses >= 2,
        )

    def _inferable(self, factor_id: str, state: DialogState) -> bool:
        factor = self.factors[factor_id]
        return any(state.answers.get(r.when.factor) in r.when.is_any for r in factor.infer)

    def back(self, state: DialogState) -> list[Reply]:
        """Re-ask the last question the user answered (or the story filled). Answers noted
        for later are kept, not walked back into: they were not the question on screen."""
        while state.history and state.sources.get(state.history[-1]) == "inferred":
            state.forget(state.history[-1])
        steps = [f for f in state.history if state.sources.get(f) in ("answer", "story")]
        if not steps:
            note = Reply("info", "This is the first question; there is nothing to go back to.")
            return [note, *([self.question(state)] if state.pending else [self.advance(state)])]
        factor_id = steps[-1]
        state.forget(factor_id)
        # Inferences that rested on the answer being changed go with it.
        for other in list(state.history):
            if state.sources.get(other) == "inferred":
                state.forget(other)
        state.phase, state.pending, state.misses = "asking", factor_id, 0
        return [self.question(state)]

    def recommendation(self, state: DialogState) -> Recommendation:
        rec = recommend(self.dialog, state.answers)
        if state.existing in FRAMEWORKS:
            return dataclasses.replace(rec, existing=state.existing)
        return rec

    def pending_factor(self, state: DialogState) -> Factor | None:
        return self.factors.get(state.pending) if state.pending else None
