"""Read which option of each dialog factor a story or a reply states, with a trained model.

The dialog's phrases and patterns (dialog.yaml) find what they name and nothing else; people
say "most of our endpoints return json to the iOS app" or "nobody here has shipped anything
async". The slot model is a linear model of the same kind as the fact matcher's (weights in
`slots.json` and `slots.npy`, trained by `advisor train` from knowledge/dialog_examples.yaml
and the dialog's own aliases). It holds one small classifier per factor, side by side: a
class per option ("app_kind:api") and one for "states nothing about this factor", each
factor's softmax taken over its own classes, so a clause can state two factors at once.
One more group, INTENT, reads what a reply to the question on screen does when it names no
option: a control in words of its own ("oops, previous question please" is `back`, "you have
enough info" the verdict now) or an answer that leaves the factor unknown ("still in doubt").

A story is read clause by clause, because each factor is stated in a few words of its own
and the rest of a long story would only dilute them. A factor is filled only when one option
alone clears the threshold somewhere.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from bot.kb.dialog_models import Factor
from bot.kb.loader import KnowledgeBase
from bot.matching.features import features
from bot.matching.model import LinearModel, knowledge_digest
from bot.matching.reader import Reader

SLOTS_FILE = "slots.json"
NONE = "(none)"  # the option of a clause that states nothing about a factor
INTENT = "(reply)"  # the group of a reply's intent: a control's name or "unsure"
_MAX_CLAUSES = 40  # a story longer than this is read up to here: bounded cost per message
# Clause boundaries: sentence ends, line breaks, dashes and brackets, and the conjunctions
# that join two statements ("... json, but the team is new to async").
_CLAUSE = re.compile(
    r"(?<=[.!?;])\s+|\n+|\s[-\u2013\u2014]\s|[()\[\]]|,?\s+but\s+"
    r"|,\s+(?:and|so|while|because|though)\s+",
    re.IGNORECASE,
)

# A leading yes or no answers whichever question was asked; it says nothing about a factor.
_YES_NO = re.compile(
    r"^(?:yes|yeah|yep|yup|no|nope|nah|sure|ok|okay|y|n)\b[\s,.!:;-]*", re.IGNORECASE
)

Reading = dict[str, dict[str, float]]  # factor -> option (or NONE) -> probability


# Words after which the next few say the opposite ("nobody here has used asyncio").
_NEGATORS = frozenset(
    [
        "no",
        "not",
        "never",
        "nobody",
        "none",
        "noone",
        "nothing",
        "without",
        "neither",
        "nor",
        "hardly",
        "dont",
        "doesnt",
        "isnt",
        "arent",
        "wont",
        "didnt",
        "havent",
        "hasnt",
        "cant",
        "cannot",
    ]
)
_NEGATED_WORDS = 3
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def content(text: str) -> str:
    """What the model reads of a clause or reply: without a leading yes or no, and with the
    words a negation governs marked ("never used asyncio" -> "never notused notasyncio"),
    because a sum of words cannot otherwise tell "used asyncio" from "never used asyncio"."""
    words: list[str] = []
    governed = 0
    for token in _TOKEN.findall(_YES_NO.sub("", text.strip(), count=1).lower()):
        if not token[0].isalnum():
            governed = 0
            continue
        plain = token.replace("'", "")
        words.append(f"not{plain}" if governed else plain)
        governed = _NEGATED_WORDS if plain in _NEGATORS else max(0, governed - 1)
    return " ".join(words)


def clauses(text: str) -> list[str]:
    """The clauses of a story, in order, without empty ones."""
    parts = (part.strip(" ,.;:") for part in _CLAUSE.split(text))
    return [part for part in parts if part][:_MAX_CLAUSES]


def label(factor: str, option: str) -> str:
    return f"{factor}:{option}"


def slots_path(kb: KnowledgeBase) -> Path:
    return kb.directory / SLOTS_FILE


class SlotReader:
    def __init__(self, kb: KnowledgeBase, model: LinearModel) -> None:
        self.model = model
        self.reader = Reader(kb.matching, known_words=model.vocabulary)
        # Each factor's columns: (option, class index), the factor's own softmax.
        self._groups: dict[str, list[tuple[str, int]]] = {}
        for i, name in enumerate(model.classes):
            factor, _, option = name.partition(":")
            self._groups.setdefault(factor, []).append((option, i))

    @classmethod
    def load(cls, kb: KnowledgeBase, trained_on: list[Path]) -> SlotReader:
        """The shipped slot model; refused (ModelError) when knowledge/ changed since."""
        return cls(kb, LinearModel.load(slots_path(kb), knowledge_digest(trained_on)))

    def read(self, text: str) -> Reading:
        """Every factor's options with their probabilities, for one clause or reply."""
        reading = self.reader.read(content(text))
        if not reading.words:
            return {factor: {NONE: 1.0} for factor in self._groups}
        scores = self.model.scores(features(reading))
        found: Reading = {}
        for factor, columns in self._groups.items():
            top = max(scores[i] for _, i in columns)
            exps = [(option, math.exp(scores[i] - top)) for option, i in columns]
            norm = sum(e for _, e in exps)
            found[factor] = {option: e / norm for option, e in exps}
        return found

    def story(self, text: str, threshold: float) -> dict[str, set[str]]:
        """factor -> the options some clause of `text` states with at least `threshold`."""
        found: dict[str, set[str]] = {}
        for clause in clauses(text):
            for factor, options in self.read(clause).items():
                if factor == INTENT:
                    continue
                for option, p in options.items():
                    if option != NONE and p >= threshold:
                        found.setdefault(factor, set()).add(option)
        return found

    def reply(self, factor: Factor, text: str, threshold: float) -> str | None:
        """The option of `factor` a reply to its question states, if one clears `threshold`."""
        return _best(self.read(text).get(factor.id, {}), threshold)

    def intent(self, text: str, threshold: float) -> str | None:
        """What a reply that names no option does ("skip", "back", "unsure"...), if sure."""
        return _best(self.read(text).get(INTENT, {}), threshold)


def _best(options: dict[str, float], threshold: float) -> str | None:
    best = max((o for o in options if o != NONE), key=options.__getitem__, default=None)
    return best if best is not None and options[best] >= threshold else None
