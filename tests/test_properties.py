"""Property tests (hypothesis): whatever people type, the matcher and the dialog hold up."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.terminal import run_chat
from bot.core.advisor import Advisor
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.store.memory import MemoryStore

WORDS = [
    "recommend",
    "back",
    "restart",
    "cancel",
    "why",
    "help",
    "skip",
    "not sure",
    "1",
    "2",
    "3",
    "4",
    "5",
    "0",
    "-1",
    "yes",
    "no",
    "api",
    "jinja website",
    "pytorch model",
    "lots of users",
    "is fastapi faster?",
    "swagger?",
    "<!channel>",
    "<@U123>",
    "",
    " ",
    "compare",
    "🔥",
    "\u200b",
    "\u202e",
    "\uff26\uff21\uff33\uff34\uff21\uff30\uff29",  # full-width FASTAPI
    "{{7*7}}",
    "'; DROP TABLE x; --",
]

texts = st.one_of(st.sampled_from(WORDS), st.text(max_size=200))
HYPOTHESIS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(text=st.text(max_size=3000))
def test_the_matcher_never_raises_and_is_deterministic(matcher: Matcher, text: str) -> None:
    first = matcher.match(text)
    assert first == matcher.match(text)
    assert first.status in {"answered", "did_you_mean", "no_match"}
    assert 0 <= first.score <= 100
    assert len(first.candidates) <= 4
    # Only the first characters are read, so the work per message is bounded.
    assert len(matcher.reader.read(text).tokens) <= matcher.config.max_chars // 2


@HYPOTHESIS
@given(lines=st.lists(texts, max_size=25))
def test_any_conversation_keeps_the_line_protocol_and_restart_recovers(
    kb: KnowledgeBase, matcher: Matcher, lines: list[str]
) -> None:
    advisor = Advisor(kb, MemoryStore(), matcher=matcher)
    safe = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    out = io.StringIO()
    run_chat(
        advisor, as_json=True, stdin=io.StringIO("\n".join([*safe, "restart"]) + "\n"), stdout=out
    )
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(replies) == len(safe) + 2  # the greeting, then one line per input line
    said = ["(greeting)", *safe, "restart"]
    for line, reply in zip(said, replies, strict=True):
        assert set(reply) >= {"text", "fact_id", "question", "recommendation"}
        assert bool(reply["text"]) == bool(line.strip())  # a blank line gets nothing at all
        assert "<!channel>" not in reply["text"]
        rec = reply["recommendation"]
        if rec is not None:
            assert rec["framework"] in {"flask", "fastapi"}
            assert 0.5 <= rec["confidence"] <= 1.0
            assert len(rec["reasons"]) >= 2
    assert replies[-1]["question"]["factor"] == "app_kind"
