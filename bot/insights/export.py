"""Unmatched questions as a labelled question file skeleton (INTERFACES.md `advisor eval`).

Every question starts in `out_of_scope`, so the file is valid as written and `advisor eval`
runs on it at once; the author moves the ones the knowledge base should answer to `in_scope`
with the fact ids that answer them. Comments carry what helps labelling: how often it was asked,
what the advisor offered, and the matcher's best guesses today.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.insights.render import times
from bot.insights.report import Report, UnmatchedGroup, when
from bot.matching.matcher import Matcher

HEADER = """\
# Unmatched questions from the advisor's usage record, {since} to {until}: {count} wordings.
# Label them: move each question the knowledge base should answer to `in_scope`, written as
#   - {{q: "...", accept: [fact_id, ...]}}
# and leave the rest in `out_of_scope`. Then: advisor eval {name}
# Fact ids: {facts}
"""


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: JSON's string syntax is a subset of it."""
    return json.dumps(text, ensure_ascii=False)


def skeleton(report: Report, matcher: Matcher, name: str) -> str:
    groups: Sequence[UnmatchedGroup] = report.unmatched
    count = sum(len(g.wordings) for g in groups)
    lines = [
        HEADER.format(
            since=when(report.since),
            until=when(report.until),
            count=count,
            name=name,
            facts=", ".join(matcher.kb.facts),
        ),
        "in_scope: []",
        "",
        "out_of_scope:" if groups else "out_of_scope: []",
    ]
    for group in groups:
        offered = f"; offered: {', '.join(group.suggested)}" if group.suggested else ""
        wordings = "" if len(group.wordings) == 1 else f" in {len(group.wordings)} wordings"
        lines.append(f"  # asked {times(group.count)}{wordings}{offered}")
        for text in group.wordings:
            guesses = [c.fact_id for c in matcher.match(text).candidates[:3]]
            hint = f"  # guesses: {', '.join(guesses)}" if guesses else ""
            lines.append(f"  - {{q: {_quoted(text)}}}{hint}")
    return "\n".join(lines) + "\n"


def export_unmatched(report: Report, matcher: Matcher, path: Path) -> int:
    """Write the skeleton to `path`; the number of questions written."""
    path.write_text(skeleton(report, matcher, str(path)), encoding="utf-8")
    return sum(len(g.wordings) for g in report.unmatched)
