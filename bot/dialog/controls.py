"""Control words: skip, back, restart, cancel, why, help, go on, the verdict now.

They are the contract of INTERFACES.md section 3 and work in every state of the dialog, so they
are code, read before anything else in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from rapidfuzz import process
from rapidfuzz.distance import OSA


class Control(Enum):
    SKIP = "skip"
    BACK = "back"
    RESTART = "restart"
    CANCEL = "cancel"
    WHY = "why"
    HELP = "help"
    GO_ON = "go_on"  # after a verdict given early: ask the remaining questions after all
    VERDICT = "verdict"  # during the dialog: the verdict now, with what is known


CONTROL_PHRASES: dict[Control, tuple[str, ...]] = {
    Control.SKIP: (
        "skip",
        "not sure",
        "dont know",
        "don't know",
        "no idea",
        "unsure",
        "idk",
        "dunno",
        "pass",
        "no preference",
        "skip it",
        "skip this",
        "skip this one",
        "pass on this",
        "pass on this one",
        "next question",
    ),
    Control.BACK: (
        "back",
        "go back",
        "previous",
        "undo",
        "previous question",
        "back up",
        "back up a step",
        "one step back",
        "go back one",
    ),
    Control.RESTART: (
        "restart",
        "start over",
        "can we start over",
        "lets start over",
        "reset",
        "start again",
        "begin again",
        "start from the top",
        "start again from the top",
        "lets begin again",
        "scrap all that",
    ),
    Control.CANCEL: (
        "cancel",
        "stop",
        "quit",
        "exit",
        "never mind",
        "nevermind",
        "abort",
        "forget it",
    ),
    Control.WHY: (
        "why",
        "why do you ask",
        "why does it matter",
        "why does that matter",
        "why do you need to know",
        "why do you need to know that",
        "why is this relevant",
        "why is that relevant",
        "why ask",
        "why is that",
        "whats the tradeoff",
        "whats the tradeoff here",
        "does it matter",
        "does that matter",
        "how does that change the recommendation",
        "how does it change the recommendation",
        "why would that matter",
    ),
    Control.HELP: ("help", "what can you do", "commands", "options", "menu"),
    Control.GO_ON: (
        "go on",
        "continue",
        "keep going",
        "ask the rest",
        "ask me the rest",
        "more questions",
        "ask me more",
    ),
    Control.VERDICT: (
        "just tell me",
        "just tell me which one",
        "just tell me which one is better",
        "skip the rest",
        "verdict now",
        "verdict",
        "give me the verdict",
        "tell me now",
        "just pick one",
        "just pick for me",
        "just give me the answer",
        "just tell me flask or fastapi",
        "decide for me",
        "enough questions",
        "stop asking",
        "thats enough",
        "enough",
        "give me your pick",
        "give me the recommendation",
        "give me a recommendation",
        "thats all i know",
        "just recommend",
    ),
}

_LEADING_CONTROL_WORDS = 9  # longer messages that open with "go back" say something else too
# Words people put before a control without changing it ("wait, go back", "hmm ok skip").
_FILLERS = {"wait", "hmm", "hm", "ok", "okay", "actually", "um", "uh", "oh", "well", "so", "eh"}
# What `reads_as` calls each control, as labelled sets name them.
CONTROL_NAMES = {
    Control.SKIP: "skip",
    Control.BACK: "back",
    Control.CANCEL: "cancel",
    Control.RESTART: "restart",
    Control.WHY: "why",
    Control.VERDICT: "verdict_now",
}


class Controls:
    def __init__(self, clean: Callable[[str], str]) -> None:
        self.clean = clean
        self._controls = {
            clean(phrase): control
            for control, phrases in CONTROL_PHRASES.items()
            for phrase in phrases
        }

    def find(self, text: str) -> Control | None:
        """The control a message is, exact, one typo away, or opening a short message."""
        cleaned = self.clean(text)
        found = self._controls.get(cleaned)
        if found is not None or len(cleaned) < 5:
            return found
        close = process.extractOne(
            cleaned, list(self._controls), scorer=OSA.distance, score_cutoff=1
        )
        if close:
            return self._controls[close[0]]  # "cancle", "restrat"
        return self._leading_control(cleaned)

    def _leading_control(self, cleaned: str) -> Control | None:
        """A control phrase of two words or more that opens a short message: "go back, I
        answered it wrong", "just tell me which one already", "start over pls"."""
        words = cleaned.split()
        while len(words) > 1 and words[0] in _FILLERS:
            words = words[1:]
        if len(words) > _LEADING_CONTROL_WORDS:
            return None
        if len(words) < len(cleaned.split()):
            found = self._controls.get(" ".join(words))
            if found is not None:
                return found
        for size in range(min(4, len(words) - 1), 1, -1):
            found = self._controls.get(" ".join(words[:size]))
            if found is not None:
                return found
        return None
