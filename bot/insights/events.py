"""A turn of conversation as usage events: plain JSON, derived from what the turn did.

Derived, not reported by each code path: the Advisor's decisions stay free of bookkeeping, and
every transport records the same events for the same turn. Privacy is decided here: question
text is kept only when the operator opted in, only for questions the advisor could not answer
outright, and with every Slack user id in it replaced by a salted hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.messages import Inbound, Reply
from bot.dialog.state import DialogState
from bot.store.base import ConversationKey

JSON = dict[str, Any]
Band = Literal["answered", "did_you_mean", "no_match", "chosen", "dialog", "other"]
Subject = Literal["fact", "verdict"]  # what a 👍 / 👎 rates
# Bands of a message that asked a fact question: the rates the report shows.
QUESTION_BANDS: tuple[Band, ...] = ("answered", "did_you_mean", "no_match")
# Kept text is capped like the matcher's input: what the matcher never reads is not needed.
TEXT_LIMIT = 400

_USER_ID = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Privacy:
    """What an operator allows the record to keep (ADVISOR_RECORD_QUESTIONS, the salt)."""

    record_questions: bool = False
    salt: bytes = b""

    def hashed(self, team: str, user: str) -> str:
        """A user id no one can reverse without the salt, stable across replicas that share it."""
        digest = hmac.new(self.salt, f"{team}:{user}".encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def redact(self, text: str, team: str) -> str:
        return _USER_ID.sub(lambda m: f"<@{self.hashed(team, m.group(1))}>", text)[:TEXT_LIMIT]


def band(replies: Sequence[Reply], before: DialogState, after: DialogState) -> tuple[Band, str]:
    """How the message was handled, and the fact it was answered with ("none" if no fact)."""
    for reply in replies:
        if reply.kind == "fact" and reply.fact is not None:
            return ("chosen" if reply.extras.get("chosen") else "answered"), reply.fact.id
        if reply.kind == "did_you_mean":
            return "did_you_mean", "none"
        if reply.kind == "no_match":
            return "no_match", "none"
    in_dialog = before.phase != "idle" or after.phase != "idle"
    return ("dialog" if in_dialog else "other"), "none"


@dataclass(frozen=True)
class Turn:
    """One handled message: what came in, the state before and after, what was replied."""

    key: ConversationKey
    inbound: Inbound
    before: DialogState
    after: DialogState
    replies: Sequence[Reply]


def turn_events(turn: Turn, privacy: Privacy, at: float) -> list[JSON]:
    """One `message` event for the turn, then the dialog milestones it passed."""
    key, text = turn.key, turn.inbound.text.strip()
    base: JSON = {"at": at, "surface": key.surface}
    how, fact = band(turn.replies, turn.before, turn.after)
    message = message_event(at, key.surface, how, fact)
    if how == "did_you_mean":
        message["candidates"] = [f.id for r in turn.replies for f in r.suggestions]
    if how in {"did_you_mean", "no_match"} and privacy.record_questions and text:
        message["text"] = privacy.redact(text, key.team)
        message["user"] = privacy.hashed(key.team, key.user)
    if how == "chosen":
        message["candidates"] = list(turn.before.suggested)
    return [message, *_dialog_events(base, turn.before, turn.after, turn.replies)]


def _dialog_events(
    base: JSON, before: DialogState, after: DialogState, replies: Sequence[Reply]
) -> list[JSON]:
    events: list[JSON] = []
    expired = any(r.extras.get("event") == "expired" for r in replies)
    started = bool(after.dialog) and after.dialog != before.dialog
    finished = any(r.kind == "verdict" for r in replies)
    if before.phase == "asking":
        reason = None
        if expired:
            reason = "expired"
        elif started:
            reason = "restart"
        elif after.phase == "idle":
            reason = "cancel"
        if reason is not None:
            events.append(
                {
                    **base,
                    "type": "cancel",
                    "dialog": before.dialog,
                    "factor": before.pending,
                    "reason": reason,
                }
            )
    if started:
        events.append({**base, "type": "start", "dialog": after.dialog})
    for reply in replies:
        if reply.question is not None:
            factor = reply.question.factor
            events.append({**base, "type": "question", "dialog": after.dialog, "factor": factor})
    if finished:
        rec = next(r.recommendation for r in replies if r.recommendation is not None)
        events.append(
            {
                **base,
                "type": "finish",
                "dialog": after.dialog,
                "framework": rec.framework,
                "confidence": rec.confidence,
            }
        )
    return events


def rated(replies: Sequence[Reply]) -> tuple[Subject, str] | None:
    """What a 👍 / 👎 after these replies would rate: the verdict or the fact answered."""
    for reply in reversed(replies):
        if reply.recommendation is not None:
            return "verdict", reply.recommendation.framework
        if reply.kind == "fact" and reply.fact is not None:
            return "fact", reply.fact.id
    return None


def message_event(at: float, surface: str, how: Band, fact: str = "none") -> JSON:
    """The one event every handled message leaves (its band, and the fact it got if any)."""
    return {"at": at, "surface": surface, "type": "message", "band": how, "fact": fact}


def chosen_event(key: ConversationKey, fact: str, candidates: Sequence[str], at: float) -> JSON:
    """A "did you mean" button clicked (typed numbers arrive as a turn instead)."""
    return {**message_event(at, key.surface, "chosen", fact), "candidates": list(candidates)}
