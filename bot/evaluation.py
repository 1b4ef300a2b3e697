"""Score the matcher on a labelled question file (INTERFACES.md section 1, `advisor eval`).

Accuracy alone hides what matters to an author, so every miss is listed with what the matcher
did instead, and "did you mean" outcomes are counted apart from wrong answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import KnowledgeError, Problem
from bot.kb.loader import load_labelled
from bot.kb.models import LabelledFile
from bot.matching.matcher import Matcher, MatchResult

QuestionFile = LabelledFile


@dataclass(frozen=True)
class Miss:
    question: str
    expected: tuple[str, ...]  # empty: out of scope
    result: MatchResult


@dataclass
class Report:
    in_scope: int = 0
    correct: int = 0
    suggested: int = 0  # in scope, answered with "did you mean" holding a right candidate
    out_of_scope: int = 0
    rejected: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 1.0

    @property
    def rejection(self) -> float:
        return self.rejected / self.out_of_scope if self.out_of_scope else 1.0

    def as_json(self) -> dict[str, object]:
        return {
            "accuracy": round(self.accuracy, 4),
            "rejection": round(self.rejection, 4),
            "in_scope": self.in_scope,
            "correct": self.correct,
            "suggested": self.suggested,
            "out_of_scope": self.out_of_scope,
            "rejected": self.rejected,
            "misses": [
                {
                    "q": m.question,
                    "expected": list(m.expected),
                    "got": m.result.fact_id,
                    "status": m.result.status,
                }
                for m in self.misses
            ],
        }


def load_questions(path: Path) -> QuestionFile:
    return load_labelled(path)


def evaluate(matcher: Matcher, questions: QuestionFile, known_ids: set[str]) -> Report:
    unknown = sorted({i for item in questions.in_scope for i in item.accept} - known_ids)
    if unknown:
        raise KnowledgeError([Problem(Path("<questions>"), 0, f"unknown fact ids: {unknown}")])
    report = Report()
    for item in questions.in_scope:
        result = matcher.match(item.q)
        report.in_scope += 1
        if result.fact_id in item.accept:
            report.correct += 1
            continue
        if result.status == "did_you_mean" and any(
            c.fact_id in item.accept for c in result.candidates
        ):
            report.suggested += 1
        report.misses.append(Miss(item.q, tuple(item.accept), result))
    for other in questions.out_of_scope:
        result = matcher.match(other.q)
        report.out_of_scope += 1
        if result.fact_id is None:
            report.rejected += 1
        else:
            report.misses.append(Miss(other.q, (), result))
    return report


def _miss_line(miss: Miss) -> str:
    expected = "/".join(miss.expected) if miss.expected else "(out of scope)"
    got = ", ".join(f"{c.fact_id} {c.score:g}" for c in miss.result.candidates[:3]) or "-"
    return f"  want {expected:<28} got {miss.result.status:<12} [{got}]  {miss.question!r}"


def render_report(name: str, report: Report) -> str:
    lines = [
        f"{name}",
        f"  in scope:     top-1 accuracy {report.accuracy:.3f}"
        f" ({report.correct}/{report.in_scope}),"
        f" {report.suggested} more offered as 'did you mean'",
        f"  out of scope: rejection      {report.rejection:.3f}"
        f" ({report.rejected}/{report.out_of_scope})",
    ]
    if report.misses:
        lines.append(f"  misses ({len(report.misses)}):")
        lines += (_miss_line(miss) for miss in report.misses)
    return "\n".join(lines)
