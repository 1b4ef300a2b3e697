"""`advisor stats`: the report on a seeded event log, and end to end after a scripted chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import load_questions
from bot.insights.export import skeleton
from bot.insights.render import render
from bot.insights.report import Report, group_unmatched, parse_duration, summarise
from bot.kb.loader import KnowledgeBase
from bot.matching.matcher import Matcher
from bot.store.sqlite import SQLiteStore
from tests.conftest import run_advisor as advisor

NOW = 1_800_000_000.0
DAY = 86_400.0


def message(at: float, band: str, fact: str = "none", **more: object) -> dict[str, object]:
    return {"at": at, "type": "message", "surface": "dm", "band": band, "fact": fact, **more}


def dialog(at: float, name: str, reached: list[str], end: str) -> list[dict[str, object]]:
    """A dialog's events: start, the questions reached, then a verdict or where it was left."""
    events: list[dict[str, object]] = [{"at": at, "type": "start", "dialog": name}]
    events += [{"at": at, "type": "question", "dialog": name, "factor": f} for f in reached]
    if end in {"fastapi", "flask"}:
        events.append({"at": at, "type": "finish", "dialog": name, "framework": end})
    else:
        events.append(
            {"at": at, "type": "cancel", "dialog": name, "factor": reached[-1], "reason": end}
        )
    return events


def seeded() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    at = NOW - DAY
    events = [
        *(message(at, "answered", "performance") for _ in range(5)),
        *(message(at, "answered", "documentation") for _ in range(2)),
        message(
            at, "did_you_mean", candidates=["realtime", "ml_serving"], text="stream llm tokens"
        ),
        message(at, "chosen", "ml_serving", candidates=["realtime", "ml_serving"]),
        message(at, "no_match", text="how do i center a div"),
        message(at, "no_match", text="how to center a div"),
        message(at, "no_match", text="How do I center a div?"),
        message(at, "no_match", text="django vs flask"),
        message(at, "no_match"),  # asked before the operator opted in: no text
        message(at, "dialog"),
        message(NOW - 30 * DAY, "answered", "templating"),  # outside the window
        *dialog(at, "d1", ["app_kind", "concurrency"], "fastapi"),
        *dialog(at, "d2", ["app_kind", "concurrency", "concurrency"], "cancel"),
        *dialog(at, "d3", ["app_kind"], "expired"),
        *dialog(at, "d4", ["app_kind", "concurrency"], "flask"),
        {"at": at, "type": "finish", "dialog": "d1", "framework": "fastapi"},  # `back`, again
    ]
    votes = [
        {"at": at, "subject": "fact", "id": "performance", "vote": 1},
        {"at": at, "subject": "fact", "id": "performance", "vote": 1},
        {"at": at, "subject": "fact", "id": "learning_curve", "vote": -1},
        {"at": at, "subject": "fact", "id": "learning_curve", "vote": -1},
        {"at": at, "subject": "fact", "id": "learning_curve", "vote": 1},
        {"at": at, "subject": "verdict", "id": "fastapi", "vote": -1},
        {"at": NOW - 30 * DAY, "subject": "fact", "id": "templating", "vote": -1},
    ]
    return events, votes


@pytest.fixture
def report(kb: KnowledgeBase) -> Report:
    events, votes = seeded()
    return summarise(kb, events, votes, NOW - 7 * DAY, NOW)


def test_rates_count_only_fact_questions_in_the_window(report: Report) -> None:
    assert report.bands == {"answered": 7, "did_you_mean": 1, "no_match": 5}
    assert report.asked == 13
    assert report.chosen == 1
    assert report.messages == 15
    assert report.top_facts[:2] == [("performance", 5), ("documentation", 2)]
    assert ("ml_serving", 1) in report.top_facts  # a chosen suggestion answered it
    assert "templating" not in dict(report.top_facts)


def test_worst_feedback_comes_first(report: Report) -> None:
    rows = [(f.subject, f.ident, f.up, f.down) for f in report.feedback]
    assert rows == [
        ("fact", "learning_curve", 1, 2),
        ("verdict", "fastapi", 0, 1),
        ("fact", "performance", 2, 0),
    ]
    assert report.feedback[0].title == "Learning curve"


def test_unmatched_questions_are_grouped_by_similarity(report: Report) -> None:
    assert report.text_recorded
    top = report.unmatched[0]
    assert top.count == 3
    assert set(top.wordings) == {
        "how do i center a div",
        "how to center a div",
        "How do I center a div?",
    }
    others = {g.question: g for g in report.unmatched[1:]}
    assert set(others) == {"django vs flask", "stream llm tokens"}
    assert others["stream llm tokens"].suggested == ("realtime", "ml_serving")


def test_the_funnel_counts_dialogs_not_messages(report: Report) -> None:
    steps = {s.factor: (s.reached, s.cancelled) for s in report.funnel}
    assert steps["app_kind"] == (4, 1)
    assert steps["concurrency"] == (3, 1)  # d2 was asked it twice: one dialog
    assert report.funnel[0].factor == "app_kind"  # dialog order
    assert report.started == 4
    assert report.finished == 2
    assert report.cancelled == {"cancel": 1, "expired": 1}
    assert report.verdicts == {"fastapi": 1, "flask": 1}


def test_the_page_shows_every_section_with_bars(report: Report) -> None:
    page = render(report)
    assert "Fact questions: 13" in page
    assert "answered       " in page
    assert "█" in page
    assert " 54%     7" in page  # 7 of 13 answered
    assert "Learning curve" in page.split("Feedback")[1]
    assert "how do i center a div  (+2 similar)" in page
    assert "4 started, 2 finished (50%), 2 left (1 cancelled, 1 timed out)" in page
    assert "  1. What are you building?" in page  # the funnel, in dialog order
    assert "FastAPI" in page.split("Verdicts")[1]
    funnel = page.split("Recommendation dialogs")[1].split("\n\n")[0].splitlines()[1:]
    assert len(funnel) == 6
    assert len({line.index("█" if "█" in line else "░") for line in funnel}) == 1  # one column
    json.dumps(report.as_json())  # and it is all JSON-able


def test_an_empty_log_reads_as_empty_not_as_an_error(kb: KnowledgeBase) -> None:
    page = render(summarise(kb, [], [], NOW - DAY, NOW))
    assert "Fact questions: 0" in page
    assert "no votes yet" in page
    assert "ADVISOR_RECORD_QUESTIONS=1" in page
    assert "0 started, 0 finished" in page


def test_grouping_keeps_distinct_questions_apart() -> None:
    groups = group_unmatched(
        [{"text": t} for t in ("is django better", "graphql with fastapi?", "graphql in fastapi")]
    )
    assert [(g.question, g.count) for g in groups] == [
        ("graphql with fastapi?", 2),
        ("is django better", 1),
    ]


def test_durations() -> None:
    assert parse_duration("7d") == 7 * DAY
    assert parse_duration("24h") == DAY
    assert parse_duration("30m") == 1800
    assert parse_duration(" 2W ") == 14 * DAY
    for bad in ("", "7", "d7", "7 days", "-1d"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_the_export_is_a_valid_question_file_with_every_wording(
    report: Report, matcher: Matcher, tmp_path: Path
) -> None:
    path = tmp_path / "unmatched.yaml"
    path.write_text(skeleton(report, matcher, str(path)))
    questions = load_questions(path)
    assert questions.in_scope == []
    assert sorted(q.q for q in questions.out_of_scope) == sorted(
        w for g in report.unmatched for w in g.wordings
    )
    text = path.read_text()
    assert "asked 3 times in 3 wordings" in text
    assert "# asked once; offered: realtime, ml_serving" in text
    assert "Fact ids: framework_type" in text


def test_awkward_text_survives_the_export(
    kb: KnowledgeBase, matcher: Matcher, tmp_path: Path
) -> None:
    awkward = ['she said "hi" \\ bye', "emoji 👋 and: colons # hash", "- dash {brace}", "yes"]
    events = [message(NOW, "no_match", text=t) for t in awkward]
    report = summarise(kb, events, [], NOW - DAY, NOW)
    path = tmp_path / "unmatched.yaml"
    path.write_text(skeleton(report, matcher, str(path)))
    assert sorted(q.q for q in load_questions(path).out_of_scope) == sorted(awkward)


# -- end to end: a scripted chat, then `advisor stats` -----------------------------------------


SESSION = "\n".join(
    [
        "+1",  # nothing to rate yet
        "is fastapi faster?",
        "+1",
        "-1",  # changes the vote
        "-1",  # same again: nothing changes
        "how do i center a div",
        "how to center a div",
        "recommend we serve a pytorch model to 10k users",
        "cancel",
        "recommend an ml api for 10k users",
        "yes",  # docs matter: nothing left could change the verdict, so it comes now
        "+1",  # rates the verdict
    ]
)


def test_a_scripted_session_then_stats_and_export(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/advisor.db"
    env = {"ADVISOR_RECORD_QUESTIONS": "1", "ADVISOR_HASH_SALT": "pepper"}
    chat = advisor("chat", "--json", "--store", store, stdin=SESSION + "\n", env=env)
    assert chat.returncode == 0, chat.stderr
    lines = [json.loads(line) for line in chat.stdout.splitlines()]
    assert len(lines) == 1 + len(SESSION.splitlines())  # the line protocol holds
    assert "nothing to rate yet" in lines[1]["text"]
    assert "Glad it helped" in lines[3]["text"]
    assert "Changed your vote to 👎" in lines[4]["text"]
    assert "nothing changed" in lines[5]["text"]
    assert lines[-2]["recommendation"]["framework"] == "fastapi"
    assert "Thanks for the 👍" in lines[-1]["text"]

    result = advisor("stats", "--json", "--store", store, "--since", "1d", env=env)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["bands"] == {"answered": 1, "did_you_mean": 0, "no_match": 2}
    assert stats["started"] == 2
    assert stats["finished"] == 1
    assert stats["cancelled"] == {"cancel": 1}
    assert stats["verdicts"] == {"fastapi": 1}
    feedback = {(f["subject"], f["ident"]): (f["up"], f["down"]) for f in stats["feedback"]}
    assert feedback == {("fact", "performance"): (0, 1), ("verdict", "fastapi"): (1, 0)}
    assert stats["unmatched"][0]["count"] == 2
    assert stats["surfaces"] == {"terminal": 7}  # 12 lines, 5 of them votes: not messages

    page = advisor("stats", "--store", store, env=env)
    assert page.returncode == 0, page.stderr
    assert "Fact questions: 3" in page.stdout
    assert "how do i center a div" in page.stdout

    path = tmp_path / "unmatched.yaml"
    exported = advisor("stats", "--store", store, "--export-unmatched", str(path), env=env)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 2 unmatched questions" in exported.stdout
    evaluated = advisor("eval", "--json", str(path), env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)[str(path)]["out_of_scope"] == 2


def test_stats_refuses_a_bad_duration_as_a_usage_error(tmp_path: Path) -> None:
    result = advisor("stats", "--store", f"sqlite:///{tmp_path}/x.db", "--since", "soon")
    assert result.returncode == 2
    assert "not a duration" in result.stderr


def test_the_store_keeps_no_user_id_and_no_answered_text(tmp_path: Path) -> None:
    db = tmp_path / "advisor.db"
    env = {"ADVISOR_RECORD_QUESTIONS": "1", "USER": "alice-the-user", "LOGNAME": "alice-the-user"}
    chat = advisor("chat", "--json", "--store", f"sqlite:///{db}", stdin=SESSION + "\n", env=env)
    assert chat.returncode == 0, chat.stderr
    store = SQLiteStore(db)
    dumped = json.dumps([store.events_since(0), store.votes_since(0)])
    store.close()
    assert "alice-the-user" not in dumped
    assert "is fastapi faster" not in dumped  # answered: its text is not kept
    assert "center a div" in dumped  # unmatched, opted in


def test_grouping_work_is_bounded_to_the_most_asked_wordings() -> None:
    """Past the first 1,500 distinct wordings, rarer ones stand alone rather than being
    compared with every group: the report's cost stays bounded on any log."""
    filler = [{"text": f"question number {n} about zq{n}x"} for n in range(1500) for _ in (1, 2)]
    rare = [{"text": "how do i center a div"}, {"text": "how to center a div"}]
    groups = group_unmatched(filler + rare)
    assert sum(g.count for g in groups) == 3002
    assert [g.count for g in groups if "center a div" in g.question] == [1, 1]
    asked_more = group_unmatched(rare * 3)  # the same two, now among the most asked: grouped
    assert [(g.count, len(g.wordings)) for g in asked_more] == [(6, 2)]
