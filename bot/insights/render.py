"""A Report as a readable plain-text page with bar charts: the terminal's `advisor stats`, and
the same page in a code block for `/advisor stats` in Slack."""

from __future__ import annotations

from bot.insights.report import Report, when

WIDTH = 20
_BAND_LABELS = {"answered": "answered", "did_you_mean": "did you mean", "no_match": "no match"}
_FRAMEWORKS = {"fastapi": "FastAPI", "flask": "Flask"}
_REASONS = {"cancel": "cancelled", "restart": "restarted", "expired": "timed out"}


def bar(part: float, whole: float, width: int = WIDTH) -> str:
    filled = round(width * part / whole) if whole > 0 else 0
    return "█" * filled + "░" * (width - filled)


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:3.0f}%" if whole else "  -%"


def times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(report: Report) -> str:
    sections = [
        _header(report),
        _questions(report),
        _top_facts(report),
        _feedback(report),
        _unmatched(report),
        _funnel(report),
        _verdicts(report),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _header(report: Report) -> str:
    days = (report.until - report.since) / 86_400
    surfaces = ", ".join(f"{name} {n}" for name, n in report.surfaces.items()) or "none"
    return (
        f"Framework Advisor usage, {when(report.since)} to {when(report.until)} "
        f"({days:g} days)\n{report.messages} messages handled (by surface: {surfaces})"
    )


def _questions(report: Report) -> str:
    asked = report.asked
    lines = [f"Fact questions: {asked}"]
    for band, label in _BAND_LABELS.items():
        n = report.bands.get(band, 0)
        lines.append(f"  {label:<14} {bar(n, asked)} {_percent(n, asked)} {n:>5}")
    if report.chosen:
        lines.append(f'  a "did you mean" suggestion was then chosen {times(report.chosen)}')
    return "\n".join(lines)


def _top_facts(report: Report) -> str:
    if not report.top_facts:
        return ""
    most = report.top_facts[0][1]
    lines = ["Most asked about"]
    for fact, n in report.top_facts:
        title = _clip(report.titles.get(fact, fact), 36)
        lines.append(f"  {title:<36} {bar(n, most)} {n:>5}")
    return "\n".join(lines)


def _feedback(report: Report) -> str:
    if not report.feedback:
        return "Feedback: no votes yet."
    lines = [f"Feedback, worst first{'':<17} {'up':>4} {'down':>5}  share of down votes"]
    for row in report.feedback[:8]:
        title = _clip(row.title, 36)
        share = f"{bar(row.down, row.votes, 10)} {_percent(row.down, row.votes)}"
        lines.append(f"  {title:<36} {row.up:>4} {row.down:>5}  {share}")
    return "\n".join(lines)


def _unmatched(report: Report) -> str:
    if not report.text_recorded:
        return (
            "Unmatched questions: their text is not recorded "
            "(set ADVISOR_RECORD_QUESTIONS=1 to see them here)."
        )
    lines = ["Top unmatched questions, similar ones grouped"]
    for group in report.unmatched[:10]:
        similar = len(group.wordings) - 1
        extra = f"  (+{similar} similar)" if similar else ""
        offered = f"  did you mean: {', '.join(group.suggested)}" if group.suggested else ""
        lines.append(f"  {group.count:>4}  {_clip(group.question, 60)}{extra}{offered}")
    return "\n".join(lines)


def _funnel(report: Report) -> str:
    left = sum(report.cancelled.values())
    why = ", ".join(f"{n} {_REASONS.get(r, r)}" for r, n in report.cancelled.items())
    lines = [
        f"Recommendation dialogs: {report.started} started, {report.finished} finished "
        f"({_percent(report.finished, report.started).strip()}), {left} left"
        + (f" ({why})" if why else "")
    ]
    widest = max(report.started, *(s.reached for s in report.funnel), 0)
    for n, step in enumerate(report.funnel, 1):
        question = _clip(step.question, 44)
        left_here = f"  left here {step.cancelled}" if step.cancelled else ""
        lines.append(
            f"  {n}. {question:<44} {bar(step.reached, widest)} {step.reached:>5}{left_here}"
        )
    return "\n".join(lines)


def _verdicts(report: Report) -> str:
    total = sum(report.verdicts.values())
    lines = [f"Verdicts: {total}"]
    for framework in ("fastapi", "flask"):
        n = report.verdicts.get(framework, 0)
        name = _FRAMEWORKS[framework]
        lines.append(f"  {name:<14} {bar(n, total)} {_percent(n, total)} {n:>5}")
    return "\n".join(lines)
