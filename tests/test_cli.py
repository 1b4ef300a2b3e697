"""The `advisor` command as other tools use it: a real process, real pipes (INTERFACES.md 1-3)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, MakeCopy
from tests.conftest import run_advisor as advisor

COMMANDS = ("chat", "ask", "check", "eval", "serve", "stats", "bench")


def serve_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`advisor serve` with exactly this environment (it should refuse to start)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = advisor(command, "--help")
    assert result.returncode == 0
    assert "usage: advisor" in result.stdout
    assert f"advisor {command}" in (ROOT / "README.md").read_text()


def test_usage_error_exits_2() -> None:
    assert advisor("frobnicate").returncode == 2
    assert advisor().returncode == 2


def test_ask_json_one_question() -> None:
    result = advisor("ask", "--json", "does fastapi have swagger docs?")
    assert result.returncode == 0
    payload = json.loads(result.stdout)
    assert payload["question"] == "does fastapi have swagger docs?"
    assert payload["fact_id"] == "documentation"
    assert 0 <= payload["score"] <= 100
    assert "Swagger UI" in payload["answer"]
    assert len(payload["alternatives"]) <= 3
    assert all(a["fact_id"] != "documentation" for a in payload["alternatives"])


def test_ask_out_of_scope_says_what_it_can_do() -> None:
    payload = json.loads(advisor("ask", "--json", "how do i center a div").stdout)
    assert payload["fact_id"] is None
    assert "recommend" in payload["answer"]


def test_ask_batch_answers_every_line_in_order() -> None:
    questions = ["is fastapi faster?", "hello", "jinja in fastapi?", "", "wsgi or asgi"] * 60
    result = advisor("ask", "--json", stdin="\n".join(questions) + "\n")
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert len(lines) == 300
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == questions
    assert [a["fact_id"] for a in answers[:5]] == [
        "performance",
        None,
        "templating",
        None,
        "architecture",
    ]


def test_ask_plain_text() -> None:
    result = advisor("ask", "can flask do websockets")
    assert result.returncode == 0
    assert result.stdout.startswith("WebSockets, streaming and real-time")


def test_ask_lines_are_flushed_as_they_are_answered() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write("is flask dead?\n")
        process.stdin.flush()
        first = json.loads(process.stdout.readline())  # would block forever if not flushed
        assert first["question"] == "is flask dead?"
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def test_check_passes_on_the_bundled_knowledge(tmp_path: Path) -> None:
    diagram = tmp_path / "dialog.mmd"
    result = advisor("check", "--diagram", str(diagram))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert diagram.read_text().startswith("flowchart TD")


def test_check_reports_file_line_and_no_traceback(knowledge_copy: Callable[[], Path]) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    facts.write_text(facts.read_text().replace("  - id: templating", "  - id: 42", 1))
    result = advisor("check", "--knowledge", str(directory))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{facts}:" in result.stderr
    assert "id: Input should be a valid string (got 42)" in result.stderr
    assert "dialog.yaml:" in result.stderr  # the dialog's reasons cite the fact that vanished
    assert "unknown fact id 'templating'" in result.stderr


def test_knowledge_from_environment(knowledge_copy: Callable[[], Path]) -> None:
    directory = knowledge_copy()
    (directory / "dialog.yaml").write_text("order: [\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        capture_output=True,
        text=True,
        env={"ADVISOR_KNOWLEDGE": str(directory), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "dialog.yaml:" in result.stderr
    assert "YAML syntax error" in result.stderr


def test_eval_prints_accuracy_and_misses(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "in_scope:\n"
        "  - {q: 'is fastapi faster', accept: [performance]}\n"
        "  - {q: 'is fastapi faster', accept: [templating]}\n"
        "out_of_scope:\n"
        "  - {q: 'hello'}\n"
    )
    result = advisor("eval", str(questions))
    assert result.returncode == 0
    assert "top-1 accuracy 0.500 (1/2)" in result.stdout
    assert "rejection      1.000 (1/1)" in result.stdout
    assert "want templating" in result.stdout
    as_json = json.loads(advisor("eval", "--json", str(questions)).stdout)
    assert as_json[str(questions)]["accuracy"] == 0.5


def test_eval_defaults_to_the_labelled_sets() -> None:
    result = advisor("eval")
    assert result.returncode == 0
    assert str(DATA.relative_to(ROOT) / "questions.yaml") in result.stdout
    assert "questions_holdout.yaml" in result.stdout
    assert "corpus/test.yaml" in result.stdout
    assert "corpus/dev.yaml" in result.stdout


def test_train_writes_a_model_that_check_then_accepts(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    facts.write_text(facts.read_text().replace("Performance and speed", "Speed"))
    assert advisor("check", "--knowledge", str(directory)).returncode == 1  # stale now
    trained = advisor("train", "--knowledge", str(directory))
    assert trained.returncode == 0, trained.stderr
    assert "trained on" in trained.stdout
    assert advisor("check", "--knowledge", str(directory)).returncode == 0
    answer = json.loads(
        advisor("ask", "--json", "--knowledge", str(directory), "is flask slow?").stdout
    )
    assert answer["fact_id"] == "performance"
    assert answer["answer"].startswith("Speed")


def test_chat_plain_answers_a_piped_question() -> None:
    result = advisor("chat", stdin="does fastapi have swagger docs?\n")
    assert result.returncode == 0
    assert "OpenAPI" in result.stdout
    assert "/docs" in result.stdout


def test_chat_json_writes_one_line_per_input_line() -> None:
    inputs = [
        "recommend we serve a pytorch model to 10k users",
        "",
        "is flask slow?",
        "why",
        "yes",
        "\u200b\u202e",
    ]
    result = advisor("chat", "--json", stdin="\n".join(inputs) + "\n")
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert len(lines) == len(inputs) + 1
    replies = [json.loads(line) for line in lines]
    assert all(set(r) >= {"text", "fact_id", "question", "recommendation"} for r in replies)
    asked = replies[1]["question"]["factor"]
    assert asked not in ("app_kind", "concurrency")  # the story answered those
    assert replies[3]["fact_id"] == "performance"
    assert replies[3]["question"]["factor"] == asked  # asked again after the fact
    assert "Why I ask" in replies[4]["text"]
    final = replies[5]["recommendation"]  # a FastAPI-leaning yes: nothing left could change it
    assert final["framework"] == "fastapi"
    assert final["answers"]["app_kind"] == "ml_model"
    assert final["answers"]["concurrency"] == "high"
    assert final["answers"][asked] is not None  # the "yes" answered the question on screen
    assert final["flip"] is None or set(final["flip"]) == {"factor", "option", "text"}
    assert final["tie"] is False


def test_serve_names_every_missing_variable() -> None:
    result = serve_with({"ADVISOR_STORE": "memory://"}, "--http")
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
    socket = serve_with({"ADVISOR_STORE": "memory://", "SLACK_BOT_TOKEN": "xoxb-1"}, "--socket")
    assert socket.returncode == 1
    assert "SLACK_APP_TOKEN" in socket.stderr
    assert "SLACK_BOT_TOKEN" not in socket.stderr


SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def test_serve_with_a_bad_store_url_says_so() -> None:
    result = serve_with({**SLACK_ENV, "ADVISOR_STORE": "postgres://nope"}, "--http")
    assert result.returncode == 1
    assert "unsupported store URL" in result.stderr


def test_serve_refuses_a_broken_knowledge_base(knowledge_copy: Callable[[], Path]) -> None:
    directory = knowledge_copy()
    (directory / "facts.yaml").write_text("facts:\n  - id: performance\n    title: [\n")
    env = {**SLACK_ENV, "ADVISOR_STORE": "memory://", "ADVISOR_KNOWLEDGE": str(directory)}
    result = serve_with(env, "--http", "--port", "1")
    assert result.returncode == 1
    assert f"{directory / 'facts.yaml'}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_workers_that_could_not_share_the_store() -> None:
    """memory:// lives in one process: two workers would each hold half the conversations."""
    env = {**SLACK_ENV, "ADVISOR_STORE": "memory://"}
    result = serve_with(env, "--http", "--workers", "2")
    assert result.returncode == 1
    assert "need a store they share" in result.stderr
    assert "Traceback" not in result.stderr
    none = serve_with({**SLACK_ENV, "ADVISOR_STORE": "memory://"}, "--http", "--workers", "0")
    assert none.returncode == 1
    assert "at least 1" in none.stderr


def test_exit_and_quit_leave_the_chat_but_not_the_line_protocol() -> None:
    plain = advisor("chat", stdin="is flask slow?\nquit\nhi\n")
    assert plain.returncode == 0
    assert "Performance" in plain.stdout
    assert "Hi! I compare" not in plain.stdout  # nothing after `quit` is read
    lines = advisor("chat", "--json", stdin="exit\nhi\n").stdout.splitlines()
    assert len(lines) == 3  # the greeting, then one line per input line, as promised
