"""The usage record summarised for the knowledge base's owner: `advisor stats`, `/advisor stats`.

A pure function of the events and votes in a time window, so the report is tested on a seeded
log and reads the same from every store backend.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz, process, utils

from bot.insights.events import JSON, QUESTION_BANDS
from bot.kb.loader import KnowledgeBase

# Two unmatched questions are "the same question" at this token-set similarity (0-100):
# "how do i center a div" and "how to center a div" group; "django vs flask" and
# "graphql with fastapi?" do not.
SIMILAR = 75.0
_MAX_TEXTS = 5_000  # the most recent unmatched questions read: bounded work per report
# Grouping compares each wording with every group so far (quadratic): only the most asked
# wordings are grouped, the rest stand alone. 1,500 distinct wordings take about a second.
_MAX_GROUPED = 1_500

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_duration(text: str) -> float:
    """Seconds in "30m", "24h", "7d" or "2w"; ValueError with a usable message otherwise."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration: use e.g. 30m, 24h, 7d or 2w")
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()]


def when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


@dataclass(frozen=True)
class Feedback:
    subject: str  # "fact" or "verdict"
    ident: str
    title: str
    up: int
    down: int

    @property
    def votes(self) -> int:
        return self.up + self.down


@dataclass(frozen=True)
class UnmatchedGroup:
    question: str  # the group's most asked wording
    count: int
    wordings: tuple[str, ...]  # every distinct wording, most asked first
    suggested: tuple[str, ...]  # facts offered as "did you mean" for it, if any


@dataclass(frozen=True)
class FunnelStep:
    factor: str
    question: str
    reached: int  # dialogs that were asked this question
    cancelled: int  # dialogs left (cancelled, restarted, timed out) while it was pending


@dataclass(frozen=True)
class Report:
    since: float
    until: float
    messages: int
    bands: dict[str, int]
    chosen: int
    surfaces: dict[str, int]
    top_facts: list[tuple[str, int]]
    feedback: list[Feedback]
    text_recorded: bool
    unmatched: list[UnmatchedGroup]
    started: int
    finished: int
    cancelled: dict[str, int]
    funnel: list[FunnelStep]
    verdicts: dict[str, int]
    titles: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def asked(self) -> int:
        return sum(self.bands.values())

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("titles")
        data["asked"] = self.asked
        data["top_facts"] = [{"fact_id": f, "count": n} for f, n in self.top_facts]
        return data


def summarise(
    kb: KnowledgeBase, events: Iterable[JSON], votes: Iterable[JSON], since: float, until: float
) -> Report:
    events = [e for e in events if since <= float(e.get("at", 0)) <= until]
    messages = [e for e in events if e.get("type") == "message"]
    bands: dict[str, int] = dict.fromkeys(QUESTION_BANDS, 0)
    for message in messages:
        if message.get("band") in bands:
            bands[str(message["band"])] += 1
    answered = Counter(str(m["fact"]) for m in messages if m.get("band") in {"answered", "chosen"})
    texts = [m for m in messages if m.get("band") in {"no_match", "did_you_mean"} and m.get("text")]
    dialogs = _dialogs(kb, events)
    return Report(
        since=since,
        until=until,
        messages=len(messages),
        bands=bands,
        chosen=sum(1 for m in messages if m.get("band") == "chosen"),
        surfaces=dict(Counter(str(m.get("surface", "?")) for m in messages).most_common()),
        top_facts=answered.most_common(5),
        feedback=_feedback(kb, votes, since, until),
        text_recorded=bool(texts),
        unmatched=group_unmatched(texts[-_MAX_TEXTS:]),
        titles={fact.id: fact.title for fact in kb.facts.values()},
        **dialogs,
    )


def _dialogs(kb: KnowledgeBase, events: Sequence[JSON]) -> dict[str, Any]:
    reached: dict[str, set[str]] = defaultdict(set)
    left: dict[str, set[str]] = defaultdict(set)
    reasons: Counter[str] = Counter()
    verdicts: dict[str, str] = {}  # dialog -> framework of its last verdict
    started: set[str] = set()
    for event in events:
        dialog = str(event.get("dialog", ""))
        kind = event.get("type")
        if kind == "start":
            started.add(dialog)
        elif kind == "question":
            reached[str(event.get("factor"))].add(dialog)
        elif kind == "cancel":
            left[str(event.get("factor"))].add(dialog)
            reasons[str(event.get("reason", "cancel"))] += 1
        elif kind == "finish":
            verdicts[dialog] = str(event.get("framework"))
    factors = {factor.id: factor for factor in kb.dialog.factors}
    order = [*kb.dialog.order, *(f for f in reached if f not in kb.dialog.order)]
    funnel = [
        FunnelStep(
            factor=factor,
            question=factors[factor].question if factor in factors else factor,
            reached=len(reached.get(factor, ())),
            cancelled=len(left.get(factor, ())),
        )
        for factor in order
    ]
    return {
        "started": len(started),
        "finished": len(verdicts),
        "cancelled": dict(reasons),
        "funnel": funnel,
        "verdicts": dict(Counter(verdicts.values()).most_common()),
    }


def _feedback(
    kb: KnowledgeBase, votes: Iterable[JSON], since: float, until: float
) -> list[Feedback]:
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for vote in votes:
        if since <= float(vote.get("at", 0)) <= until:
            counts = tally[(str(vote.get("subject")), str(vote.get("id")))]
            counts[0 if int(vote.get("vote", 0)) > 0 else 1] += 1
    rows = [
        Feedback(subject, ident, _title(kb, subject, ident), up, down)
        for (subject, ident), (up, down) in tally.items()
    ]
    # Worst first: the most net thumbs-down, then the most thumbs-down.
    return sorted(rows, key=lambda r: (r.up - r.down, -r.down, r.title))


def _title(kb: KnowledgeBase, subject: str, ident: str) -> str:
    if subject == "fact":
        fact = kb.facts.get(ident)
        return fact.title if fact else ident
    return f"Verdict: {'FastAPI' if ident == 'fastapi' else 'Flask' if ident == 'flask' else ident}"


def group_unmatched(messages: Sequence[JSON]) -> list[UnmatchedGroup]:
    """Unmatched questions grouped by similarity, the most asked group first."""
    wordings: Counter[str] = Counter()
    suggested: dict[str, list[str]] = {}
    for message in messages:
        text = " ".join(str(message["text"]).split())
        wordings[text] += 1
        for fact in message.get("candidates") or []:
            suggested.setdefault(text, [])
            if fact not in suggested[text]:
                suggested[text].append(str(fact))
    groups: list[list[str]] = []
    keys: list[str] = []  # each group's first wording, normalised: what newcomers compare with
    for rank, (text, _) in enumerate(wordings.most_common()):
        normal = utils.default_process(text)
        best = (
            process.extractOne(normal, keys, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR)
            if normal and rank < _MAX_GROUPED
            else None
        )
        if best is None:
            groups.append([text])
            keys.append(normal)
        else:
            groups[best[2]].append(text)
    result = [
        UnmatchedGroup(
            question=group[0],
            count=sum(wordings[t] for t in group),
            wordings=tuple(group),
            suggested=tuple(dict.fromkeys(f for t in group for f in suggested.get(t, []))),
        )
        for group in groups
    ]
    return sorted(result, key=lambda g: (-g.count, g.question))
