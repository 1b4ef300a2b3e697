"""The advisor's words, as plain text: facts, questions, verdicts and help.

Plain text is what `advisor ask`, `advisor chat` and Slack's fallback `text` show; the Slack
adapter builds Block Kit from the same structured Reply, not from these strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.core.messages import QuestionView
from bot.kb.dialog_models import DISPLAY_NAME
from bot.kb.models import Fact

if TYPE_CHECKING:  # only the verdict's words need it; a fact answer never imports the dialog
    from bot.dialog.scoring import Recommendation

DID_YOU_MEAN = "I'm not sure which aspect you mean. Did you mean:"

HELP = (
    "I help you choose between Flask and FastAPI.\n"
    '- Ask a question: "is fastapi faster?", "does flask support websockets?"\n'
    "- `recommend` (or `recommend <what you're building>`): a few questions, then a verdict "
    "with its reasons.\n"
    "- `compare`: every aspect side by side.\n"
    "- 👍 / 👎 on an answer (`+1` / `-1` in the terminal) tell me whether it helped.\n"
    "During a recommendation: answer with a number, an option or your own words; "
    "`skip`, `back`, `restart`, `cancel` and `why` work at any time."
)

START = "Let's find the right framework for your project. A few quick questions:"
RECOMMEND_MIDWAY = (
    "We're in the middle of a recommendation. Say `restart` to start over, or answer the question:"
)
NOTHING_TO_GO_ON = "There's no recommendation under way. Say `recommend` to start one."
SETTLED_EARLY = (
    "I stopped asking: no answer to the remaining questions could change the framework, only "
    "the confidence. Say `go on` to answer them anyway."
)


def fact_text(fact: Fact) -> str:
    return f"{fact.title}\nFlask: {fact.flask}\nFastAPI: {fact.fastapi}\nIn short: {fact.verdict}"


def did_you_mean_text(facts: Iterable[Fact], intro: str = DID_YOU_MEAN) -> str:
    """A question's candidates (or small talk's suggestions), numbered: a number picks one."""
    listed = "\n".join(f"{n}. {fact.title}" for n, fact in enumerate(facts, 1))
    return f"{intro}\n{listed}\nReply with a number."


def compare_text(facts: Iterable[Fact]) -> str:
    return "\n\n".join(
        f"{fact.title}\n  Flask: {fact.flask}\n  FastAPI: {fact.fastapi}" for fact in facts
    )


def question_text(question: QuestionView) -> str:
    head = f"({question.number}/{question.total}) {question.prompt}"
    options = "\n".join(f"  {n}. {o.label}" for n, o in enumerate(question.options, 1))
    if question.numbered_only:
        return (
            f"Sorry, I didn't catch that. {question.prompt}\n{options}\n"
            "Please reply with just a number, or `skip`."
        )
    return f"{head}\n{options}\n(Or `skip`, `back`, `why`.)"


def headline(rec: Recommendation) -> str:
    """The verdict in a few words, worded by how strong it is (terminal and Slack alike)."""
    if rec.tie:
        return "A toss-up"
    name = DISPLAY_NAME[rec.framework]
    if rec.existing is not None:  # a codebase already runs on one of them
        moving = rec.existing != rec.framework
        return {
            ("strong", False): f"Stay on {name}",
            ("leaning", False): f"Stay on {name}, on balance",
            ("toss-up", False): f"Stay on {name}: nothing clearly favours moving",
            ("strong", True): f"Worth moving to {name}",
            ("leaning", True): f"Leaning towards moving to {name}",
            ("toss-up", True): f"A close call; moving to {name} has a slight edge",
        }[(rec.strength, moving)]
    return {
        "strong": f"Use {name}",
        "leaning": f"Leaning {name}",
        "toss-up": f"A close call, slightly in favour of {name}",
    }[rec.strength]


def verdict_text(rec: Recommendation) -> str:
    lines = [
        f"Recommendation: {headline(rec)}. (confidence {rec.confidence:.2f}, {rec.strength})",
        f"Score: Flask {rec.scores['flask']:g} | FastAPI {rec.scores['fastapi']:g}",
        "Why:",
        *(f"- {reason.text}" for reason in rec.reasons),
    ]
    if rec.trade_off is not None:
        lines.append(f"Trade-off: {rec.trade_off.text}")
    lines.append(flip_text(rec))
    return "\n".join(lines)


def flip_text(rec: Recommendation) -> str:
    """What would change the verdict; for a toss-up, what would tip it either way."""
    if rec.tie:
        tips = [f.text for f in (rec.flip, rec.tip) if f is not None]
        what = " ".join(tips) if tips else "Any answer that favours one of them would decide it."
        return f"Nothing you told me tips it either way. {what}"
    if rec.flip is not None:
        return rec.flip.text
    return "No single different answer would change this verdict."


def existing_summary(framework: str) -> str:
    """How the dialog repeats back that a codebase already runs on `framework`."""
    return f"an existing {DISPLAY_NAME.get(framework, framework)} codebase"  # type: ignore[call-overload]


def corrected_text(now: str, before: str) -> str:
    return f"Got it: {now}, not {before}."


def filled_text(summaries: list[str], origin: str) -> str:
    joined = ", ".join(summaries)
    return f"From your {origin}: {joined}. Change any of these with `back`."


NOTHING_TO_RATE = (
    "There's nothing to rate yet: after an answer or a recommendation, `+1` or `-1` tells "
    "me whether it helped."
)


def feedback_text(outcome: str, value: int) -> str:
    """The ephemeral thanks for a 👍 / 👎: says what happened to the vote, nothing more."""
    thumb = "👍" if value > 0 else "👎"
    if outcome == "changed":
        return f"Changed your vote to {thumb}. Thanks!"
    if outcome == "unchanged":
        return f"You had already given this {thumb}; nothing changed."
    if value > 0:
        return f"Thanks for the {thumb}! Glad it helped."
    return f"Thanks for the {thumb}. It tells the knowledge base's owners what to improve."
