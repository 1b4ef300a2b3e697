"""Advisor.handle(key, inbound) -> list[Reply]: every transport funnels into this one call.

It takes the conversation's lock, loads its state, decides what the message is (a control,
an answer, a fact question, a request for a recommendation), and saves the new state with the
version it loaded, so two messages of one conversation never interleave."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable

from bot.core import wording
from bot.core.conversation import Conversation
from bot.core.delivery import REMEMBERED, Courier, deliver, finish_interrupted
from bot.core.messages import Inbound, Reply
from bot.core.quota import OverQuota, Quota
from bot.dialog.controls import Control
from bot.dialog.engine import DialogEngine
from bot.dialog.state import DialogState
from bot.dialog.understanding import Understanding
from bot.insights.events import Turn
from bot.insights.recorder import Recorder
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher, MatchResult
from bot.store.base import ConversationKey, StateStore

Clock = Callable[[], float]

_QUESTION_START = re.compile(
    r"^\s*(what|whats|which|how|does|do|is|are|can|could|should|would|will|why|where|when)\b",
    re.IGNORECASE,
)


class Advisor:
    def __init__(
        self,
        kb: KnowledgeBase,
        store: StateStore,
        *,
        matcher: Matcher | None = None,
        clock: Clock = time.time,
        idle_timeout: float | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.kb = kb
        self.store = store
        self.matcher = matcher or Matcher(kb)
        self.understanding = Understanding(kb.dialog, self.matcher.reader, self.matcher.slots)
        self.conversation = Conversation(kb, self.matcher.reader)
        self.engine = DialogEngine(kb.dialog)
        self.clock = clock
        self.idle_timeout = idle_timeout or float(kb.dialog.idle_timeout_seconds)
        self.recorder = recorder

    def handle(
        self,
        key: ConversationKey,
        inbound: Inbound,
        courier: Courier | None = None,
        quota: Quota | None = None,
    ) -> list[Reply]:
        """Decide the replies to `inbound` and save the conversation's new state.

        Without a courier the replies are returned for the caller to show. With one, they are
        delivered inside the transaction, at most once (see bot.core.delivery). With a quota,
        a message over it raises OverQuota and changes nothing; a redelivery is not counted.
        """
        # Lock, then load: the state is read only once no other message of this
        # conversation can change it, then saved against the version that was read.
        with self.store.lock(key):
            if quota is None:
                stored, used = self.store.load(key), 0
            else:  # with the count, in one read
                stored, used = self.store.load_counted(key, quota.name, quota.window)
            version = stored.version if stored else 0
            state = DialogState.model_validate(stored.data) if stored else DialogState()
            if state.outbox:  # owed posts first; a message that came meanwhile was written
                unseen = state.phase == "asking" and inbound.delivery != state.outbox_turn
                unread = inbound.delivery if unseen else None
                version = finish_interrupted(
                    courier, functools.partial(self._save, key), version, state, unread
                )
                if unseen:  # before its question was seen: not an answer to it
                    return []
            if state.seen(inbound.delivery):
                return []  # handled already, maybe by another replica
            counted = self._admit(quota, used)
            try:
                replies, before = self._turn(key, inbound, courier, state, version)
            finally:
                if quota is not None and not counted:
                    self.store.hit(quota.name, quota.window)
        if self.recorder is not None:  # after the lock: the record never delays a conversation
            self.recorder.turn(Turn(key, inbound, before, state, replies))
        return replies

    def _admit(self, quota: Quota | None, used: int) -> bool:
        """Whether the message has been counted against `quota` yet; OverQuota if it is over.
        `used` is the count read with the conversation's state.

        Well under the quota the count is only read (with the state), and the message is
        counted after its turn, inside the lock: no write waits before the reply. From half
        the quota on, each message is counted first, so only turns admitted below half of it,
        still running in the sender's other conversations, can pass it.
        """
        if quota is None:
            return True
        if used < quota.limit // 2:
            return False
        over = self.store.hit(quota.name, quota.window) - quota.limit
        if over > 0:
            raise OverQuota(over)
        return True

    def _turn(
        self,
        key: ConversationKey,
        inbound: Inbound,
        courier: Courier | None,
        state: DialogState,
        version: int,
    ) -> tuple[list[Reply], DialogState]:
        """Decide, then save or deliver: the replies, and the state as the user last saw it."""
        # What the user saw, restored if delivery fails: a copy through plain data, which
        # pydantic-core builds several times faster than model_copy(deep=True)'s deepcopy.
        before = DialogState.model_validate(state.model_dump())
        if inbound.delivery is not None:
            state.remember(inbound.delivery, REMEMBERED)
        now = self.clock()
        replies = self._expire(state, now)
        replies += self._step(state, inbound)
        state.updated_at = now
        if courier is None:
            self._save(key, state, version)
        else:
            save = functools.partial(self._save, key)
            deliver(
                courier,
                save,
                version=version,
                state=state,
                before=before,
                replies=replies,
                delivery=inbound.delivery,
            )
        return replies, before

    def _save(self, key: ConversationKey, state: DialogState, version: int) -> int:
        return self.store.save(key, state.model_dump(mode="json", exclude_defaults=True), version)

    def peek(self, key: ConversationKey) -> DialogState:
        """The stored state, read-only (adapters use it to check a click is still current)."""
        stored = self.store.load(key)
        return DialogState.model_validate(stored.data) if stored else DialogState()

    # -- deciding what a message is -------------------------------------------------------

    def _expire(self, state: DialogState, now: float) -> list[Reply]:
        if state.phase == "asking" and now - state.updated_at > self.idle_timeout:
            minutes = round(self.idle_timeout / 60)
            state.put_away()
            return [
                Reply(
                    "info",
                    f"Our earlier recommendation timed out after {minutes} minutes without a "
                    "reply, so I've put it away. Say `recommend` to start again.",
                    extras={"event": "expired"},
                )
            ]
        return []

    def _step(self, state: DialogState, inbound: Inbound) -> list[Reply]:
        if inbound.choice is not None:
            return self._choice(state, inbound)
        text = inbound.text.strip()
        if not text:
            return []  # an empty line: nothing to say, and nothing changes
        suggested, state.suggested = state.suggested, []
        if suggested and state.phase != "asking" and text.isascii() and text.isdigit():
            number = int(text)
            if 1 <= number <= len(suggested):
                fact = self.kb.facts[suggested[number - 1]]
                state.last_fact = fact.id
                return [Reply("fact", wording.fact_text(fact), fact=fact, extras={"chosen": True})]
        control = self.understanding.control(text)
        if control is Control.WHY and state.phase == "idle" and state.last_fact:
            control = None  # "why?" after an answer asks about the answer
        if control is not None:
            return self._control(state, control)
        if self.understanding.is_recommend_command(text):
            if state.phase == "asking" and not self.understanding.story_after_command(text):
                # A bare `recommend` mid-way: ask first; `restart` starts over.
                return [Reply("info", wording.RECOMMEND_MIDWAY), self.engine.question(state)]
            return self._start(state, text)  # `recommend <story>` starts (again) with it
        if state.phase == "asking":
            return self._while_asking(state, text)
        if self.understanding.asks_for_recommendation(text):
            return self._start(state, text)
        if self.understanding.clean(text) == "compare":
            return [Reply("info", wording.compare_text(self.kb.facts.values()))]
        if self.understanding.clean(text):
            replies = self._answer(state, text)
        else:  # only emoji, a mention, punctuation
            replies = [self.conversation.smalltalk(text)]
        state.suggested = [fact.id for reply in replies for fact in reply.suggestions]
        return replies

    def _answer(self, state: DialogState, text: str) -> list[Reply]:
        """A message outside the dialog: a follow-up to the last answer, a fact question,
        small talk, or not ours."""
        last = self.kb.facts.get(state.last_fact or "")
        match = self.matcher.match(text)
        follow = None if last is None else self.conversation.follow_up(text, match, last.id)
        if last is not None and follow is not None:
            fact = self.kb.facts[follow.fact_id] if follow.fact_id else last
            state.last_fact = fact.id
            return [self.conversation.answer_follow_up(fact, follow)]
        replies = self._fact(match, text)
        answered = next((r.fact for r in replies if r.fact is not None), None)
        if answered is not None:
            state.last_fact = answered.id
        return replies

    def _start(self, state: DialogState, text: str) -> list[Reply]:
        story = self.understanding.story_after_command(text)
        existing = self.understanding.existing(story)
        return self.engine.start(state, self.understanding.story(story), existing)

    def _while_asking(self, state: DialogState, text: str) -> list[Reply]:
        factor = self.engine.pending_factor(state)
        assert factor is not None  # asking: a question is pending
        if corrected := self.understanding.correction(text, state.answers):
            return self.engine.correct(state, corrected)
        option = self.understanding.answer(factor, text)
        if option is None and self.understanding.unsure(text):
            self.engine.record(state, factor.id, None, "answer")  # as `skip` would
            return [self.engine.advance(state)]
        looks_like_question = text.endswith("?") or bool(_QUESTION_START.match(text))
        if option is not None and not looks_like_question:
            return self._answered(state, factor.id, option, text)
        elsewhere = None if looks_like_question else self._answers_another(state, text)
        if elsewhere is not None:
            other, other_option = elsewhere
            summaries = self.engine.fill(state, {other: other_option}, "noted")
            noted = f"Noted for later: {', '.join(summaries)}. Now, the question at hand:"
            return [Reply("info", noted), self.engine.question(state)]
        match = self.matcher.match(text)
        if match.status == "answered":
            return [*self._fact(match, text), self.engine.question(state)]
        if option is not None:
            return self._answered(state, factor.id, option, text)
        intent = self.understanding.reply_intent(text)
        if intent == "unsure":
            self.engine.record(state, factor.id, None, "answer")
            return [self.engine.advance(state)]
        if intent is not None:
            return self._control(state, intent)
        if self.understanding.asks_for_recommendation(text) and self.understanding.story(text):
            return self._start(state, text)
        if match.status == "did_you_mean":
            return [*self._fact(match, text), self.engine.question(state)]
        state.misses += 1
        note = Reply("info", "Sorry, I didn't understand that answer.")
        return (
            [note, self.engine.question(state)]
            if state.misses < 2
            else [self.engine.question(state)]
        )

    def _answers_another(self, state: DialogState, text: str) -> tuple[str, str] | None:
        """A short answer that plainly belongs to exactly one other unanswered question
        ("minimal" while the async question is pending): keep it, rather than misread it."""
        if len(text.split()) > 4:
            return None
        found = [
            (factor.id, option)
            for factor in self.kb.dialog.factors
            if factor.id != state.pending and factor.id not in state.answers
            if (option := self.understanding.plainly_answers(factor, text)) is not None
        ]
        return found[0] if len(found) == 1 else None

    def _answered(self, state: DialogState, factor_id: str, option: str, text: str) -> list[Reply]:
        self.engine.record(state, factor_id, option, "answer")
        # A long answer often says more: "an ML API for 10k users" also answers concurrency.
        extra = {f: o for f, o in self.understanding.story(text).items() if f not in state.answers}
        replies: list[Reply] = []
        summaries = self.engine.fill(state, extra, "story")
        if summaries:
            replies.append(Reply("info", wording.filled_text(summaries, "answer")))
        replies.append(self.engine.advance(state))
        return replies

    def _choice(self, state: DialogState, inbound: Inbound) -> list[Reply]:
        choice = inbound.choice
        assert choice is not None
        if state.phase != "asking" or state.pending != choice.factor:
            return [Reply("info", "That question was already answered; nothing changed.")]
        factor = self.engine.factors[choice.factor]
        if choice.option is None:
            self.engine.record(state, factor.id, None, "answer")
            return [self.engine.advance(state)]
        if choice.option not in {o.id for o in factor.options}:
            return [Reply("info", "That option is no longer offered; nothing changed.")]
        return self._answered(state, factor.id, choice.option, "")

    def _control(self, state: DialogState, control: Control) -> list[Reply]:
        asking = state.phase == "asking"
        if control is Control.HELP:
            return [Reply("info", wording.HELP), *([self.engine.question(state)] if asking else [])]
        if control is Control.RESTART:
            return self.engine.start(state, {})
        if control is Control.CANCEL:
            if state.phase == "idle":
                return [Reply("info", "There's nothing to cancel. Say `recommend` to start.")]
            state.put_away()
            return [Reply("info", "Okay, I've stopped. Say `recommend` any time to start again.")]
        if control is Control.BACK:
            if state.phase == "idle":
                return [Reply("info", "There's no question to go back to. Say `recommend`.")]
            return self.engine.back(state)
        if control is Control.WHY:
            return self._why(state)
        if control is Control.GO_ON:
            if state.phase == "done" and self.engine.open_questions(state):
                state.go_on = True
                return [self.engine.advance(state)]
            return [Reply("info", wording.NOTHING_TO_GO_ON)]
        if control is Control.VERDICT:
            if asking:
                return [self.engine.conclude(state)]
            return [Reply("info", wording.NOTHING_TO_GO_ON)]
        if not asking:  # SKIP
            return [Reply("info", "There's no question to skip. Say `recommend` to start.")]
        assert state.pending is not None
        self.engine.record(state, state.pending, None, "answer")
        return [self.engine.advance(state)]

    def _why(self, state: DialogState) -> list[Reply]:
        factor = self.engine.pending_factor(state)
        if state.phase == "asking" and factor is not None:
            return [Reply("info", f"Why I ask: {factor.why}"), self.engine.question(state)]
        if state.phase == "done":
            rec = self.engine.recommendation(state)
            lines = [
                f"Each answer adds weight to one side; the side with more wins. Flask "
                f"{rec.scores['flask']:g}, FastAPI {rec.scores['fastapi']:g}.",
                *(f"- {r.text} (see: {self.kb.facts[r.fact_id].title})" for r in rec.reasons),
            ]
            return [Reply("info", "\n".join(lines))]
        return [Reply("info", "I ask a few questions before recommending. Say `recommend`.")]

    # -- fact answers ------------------------------------------------------------------------

    def _fact(self, match: MatchResult, text: str) -> list[Reply]:
        if match.status == "answered":
            fact = self.kb.facts[match.candidates[0].fact_id]
            return [Reply("fact", wording.fact_text(fact), fact=fact)]
        if match.status == "did_you_mean":
            facts = tuple(self.kb.facts[c.fact_id] for c in match.candidates)
            return [Reply("did_you_mean", wording.did_you_mean_text(facts), suggestions=facts)]
        if match.route == "talk":
            return [self.conversation.smalltalk(text)]
        return self.conversation.not_ours(match, text)
