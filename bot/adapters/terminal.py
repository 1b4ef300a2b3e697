"""`advisor chat`: the same Advisor as in Slack, over standard input and output.

Plain mode is for a person (numbered options, a readable verdict); `--json` is the line
protocol of INTERFACES.md section 3: one JSON line for the greeting, then exactly one JSON line
per input line, flushed, whatever the input.
"""

from __future__ import annotations

import getpass
import json
import sys
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from bot.core import wording
from bot.core.advisor import Advisor
from bot.core.messages import Inbound, QuestionView, Reply
from bot.dialog.scoring import Recommendation
from bot.insights.events import Subject, rated
from bot.insights.recorder import Vote
from bot.store.base import ConversationKey

GREETING = (
    "Hi! I'm the Framework Advisor: ask me anything about Flask vs FastAPI, or say `recommend` "
    "and I'll ask a few questions and recommend one for your project. `help` lists the rest."
)


def terminal_key() -> ConversationKey:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "terminal"
    return ConversationKey(surface="terminal", user=user)


def question_json(view: QuestionView) -> dict[str, Any]:
    return {
        "factor": view.factor,
        "prompt": view.prompt,
        "options": [{"id": o.id, "label": o.label} for o in view.options],
        "number": view.number,
        "total": view.total,
    }


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    return {
        "framework": rec.framework,
        "confidence": rec.confidence,
        "strength": rec.strength,
        "reasons": [r.text for r in rec.reasons],
        "reason_facts": [r.fact_id for r in rec.reasons],
        "trade_off": rec.trade_off.text if rec.trade_off else None,
        "flip": (
            {"factor": rec.flip.factor, "option": rec.flip.option, "text": rec.flip.text}
            if rec.flip
            else None
        ),
        "tie": rec.tie,
        "existing": rec.existing,
        "scores": rec.scores,
        "answers": rec.answers,
    }


def reply_json(replies: list[Reply]) -> dict[str, Any]:
    """All the messages of one turn as the single object the line protocol promises."""
    fact = next((r.fact for r in replies if r.fact is not None), None)
    question = next((r.question for r in reversed(replies) if r.question is not None), None)
    rec = next((r.recommendation for r in replies if r.recommendation is not None), None)
    suggestions = [f.id for r in replies for f in r.suggestions]
    return {
        "text": "\n\n".join(r.text for r in replies),
        "fact_id": fact.id if fact else None,
        "question": question_json(question) if question else None,
        "recommendation": recommendation_json(rec) if rec else None,
        "suggestions": suggestions,
    }


LEAVE = {"exit", "quit", "/exit", "/quit", ":q"}


def _lines(stream: TextIO, prompt: bool) -> Iterator[str]:
    if prompt:
        import readline  # noqa: F401 - input() gets line editing, arrow keys and history

        while True:
            try:
                line = input("you> ")
            except EOFError:
                print()
                return
            if line.strip().lower() in LEAVE:
                return
            yield line
    else:
        for line in stream:
            yield line.rstrip("\r\n")


def _leaves(line: str, as_json: bool) -> bool:
    """`exit` or `quit` ends a person's chat; the JSON line protocol answers every line."""
    return not as_json and line.strip().lower() in LEAVE


def run_chat(
    advisor: Advisor,
    *,
    as_json: bool,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    key: ConversationKey | None = None,
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    key = key or terminal_key()
    interactive = not as_json and stdin is sys.stdin and stdin.isatty()

    def emit(payload: dict[str, Any] | str) -> None:
        text = json.dumps(payload, ensure_ascii=False) if isinstance(payload, dict) else payload
        stdout.write(text + "\n")
        stdout.flush()

    greeting: list[Reply] = [Reply("info", GREETING)]
    emit(reply_json(greeting) if as_json else GREETING + "\n")
    lines: Iterable[str] = _lines(stdin, interactive)
    feedback = Feedback(advisor, key)
    for line in lines:
        if _leaves(line, as_json):
            break
        replies = feedback.on(line)
        if replies is None:
            replies = advisor.handle(key, Inbound(text=line))
            feedback.answered(replies)
        if as_json:
            emit(reply_json(replies))
        else:
            emit("\n\n".join(_plain(r) for r in replies) + "\n")
    return 0


VOTES = {"+1": 1, "-1": -1, "👍": 1, "👎": -1}


class Feedback:
    """`+1` / `-1` after an answer: the chat's 👍 / 👎 buttons. A vote is recorded, never
    handled as a message, so it cannot change the conversation."""

    def __init__(self, advisor: Advisor, key: ConversationKey) -> None:
        self.advisor = advisor
        self.key = key
        self.session = uuid.uuid4().hex[:12]  # names this run's messages apart from others'
        self.turns = 0
        self.last: tuple[str, Subject, str] | None = None  # message, subject, id

    def answered(self, replies: list[Reply]) -> None:
        self.turns += 1
        subject = rated(replies)
        if subject is not None:
            self.last = (f"{self.key.surface}:{self.session}:{self.turns}", *subject)

    def on(self, line: str) -> list[Reply] | None:
        value = VOTES.get(line.strip())
        recorder = self.advisor.recorder
        if value is None or recorder is None:
            return None
        if self.last is None:
            return [Reply("info", wording.NOTHING_TO_RATE)]
        message, subject, ident = self.last
        vote = Vote(
            message,
            self.key.team,
            self.key.user,
            self.key.surface,
            subject,
            ident,
            1 if value > 0 else -1,
        )
        return [Reply("info", wording.feedback_text(recorder.vote(vote), value))]


def _plain(reply: Reply) -> str:
    if reply.kind == "verdict":
        return "=" * 60 + "\n" + reply.text + "\n" + "=" * 60
    return reply.text
