"""Project stories: what the advisor understands from them, and the verdict they lead to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.advisor import Advisor
from tests.conftest import DATA
from tests.transcript import Transcript

STORIES = yaml.safe_load(Path(DATA / "stories.yaml").read_text())["stories"]


@pytest.mark.parametrize("case", STORIES, ids=[s["story"][:40] for s in STORIES])
def test_story(advisor: Advisor, case: dict[str, object]) -> None:
    chat = Transcript(advisor)
    chat.say(f"recommend {case['story']}")
    assert chat.state.answers == case["fills"]
    asked = 0
    while chat.asking is not None:
        asked += 1
        chat.say("skip")
    open_questions = 6 - len(case["fills"])  # type: ignore[arg-type]
    assert asked <= open_questions
    if asked < open_questions:  # stopped early: nothing left could change the framework
        assert "only the confidence" in chat.text
    rec = chat.verdict().recommendation
    assert rec is not None
    if "verdict" in case:
        assert rec.framework == case["verdict"]
    if case.get("clear", True):
        assert rec.strength != "toss-up", rec
    else:
        assert rec.strength == "toss-up", rec
