"""Bad knowledge files are reported as `file:line: message`, every problem at once."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import KnowledgeError
from bot.kb.loader import load_knowledge
from bot.kb.models import REQUIRED_FACT_IDS

MakeCopy = Callable[[], Path]


def _line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


def test_bundled_knowledge_has_every_required_fact(kb: object) -> None:
    facts = load_knowledge().facts
    assert set(REQUIRED_FACT_IDS) <= set(facts)
    assert all(len(f.phrasings) >= 10 for f in facts.values())


def test_yaml_syntax_error_names_file_and_line(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    _edit(facts, "    title: Performance and speed", "    title: [Performance and speed")
    line = _line_of(facts, "[Performance and speed")
    problems = _problems(directory)
    assert len(problems) == 1
    path, number, message = problems[0].split(":", 2)
    assert path == str(facts)
    assert line <= int(number) <= line + 2  # PyYAML marks where it noticed: the next line
    assert "YAML syntax error" in message


def test_duplicate_fact_id_points_at_the_second(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    _edit(facts, "  - id: scalability", "  - id: performance")
    line = _line_of(facts, "  - id: performance", occurrence=2)
    problems = _problems(directory)
    assert any(p.startswith(f"{facts}:{line}: duplicate fact id 'performance'") for p in problems)
    assert any("missing required facts: scalability" in p for p in problems)


def test_missing_field_and_wrong_type_are_reported_together(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    _edit(facts, "    title: Learning curve\n", "")
    _edit(
        facts, "    verdict: Flask has more community answers", "    verdict: [1, 2]\n    x: Flask"
    )
    problems = _problems(directory)
    learning = _line_of(facts, "  - id: learning_curve")
    verdict = _line_of(facts, "    verdict: [1, 2]")
    assert any(p.startswith(f"{facts}:{learning}:") and "title: required" in p for p in problems)
    assert any(p.startswith(f"{facts}:{verdict}:") and "valid string" in p for p in problems)
    assert any("unknown field" in p for p in problems)


def test_unquoted_yes_gets_a_hint(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    _edit(dialog, "replies: ['yes', yep", "replies: [yes, yep")
    line = _line_of(dialog, "replies: [yes, yep")
    problems = _problems(directory)
    assert any(p.startswith(f"{dialog}:{line}:") and "put it in quotes" in p for p in problems)


def test_too_few_phrasings_and_duplicate_keys(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    facts = directory / "facts.yaml"
    text = facts.read_text()
    start = text.index("      - which one scales better")
    end = text.index("\n    keywords:", start) + 1
    facts.write_text(text[:start] + "      - which one scales better\n" + text[end:])
    _edit(facts, "    title: Scalability", "    title: Scalability\n    title: Again")
    problems = _problems(directory)
    assert any("phrasings" in p and "at least 10" in p for p in problems)
    assert any("duplicate key 'title'" in p for p in problems)


def test_unknown_fact_in_dialog_and_bad_regex(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    _edit(dialog, "            fact: ml_serving", "            fact: gpu_support")
    _edit(dialog, "'\\b(thousands|millions", "'\\b((thousands|millions")
    gpu = _line_of(dialog, "fact: gpu_support")
    problems = _problems(directory)
    assert any(p.startswith(f"{dialog}:{gpu}: ") and "gpu_support" in p for p in problems)
    assert any("not a valid regular expression" in p for p in problems)


def test_dialog_order_and_inference_references(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    _edit(dialog, "order: [app_kind, concurrency,", "order: [app_kind, app_kind, budget,")
    _edit(dialog, "is_any: [prototype]", "is_any: [protoype]")
    problems = _problems(directory)
    assert any("appears twice in order" in p for p in problems)
    assert any("unknown factor 'budget'" in p for p in problems)
    assert any("never asked" in p and "concurrency" in p for p in problems)
    assert any("'protoype' is not an option of 'app_kind'" in p for p in problems)


def test_problems_across_files_come_all_at_once(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    _edit(directory / "facts.yaml", "  - id: realtime", "  - id: Realtime!")
    _edit(directory / "matching.yaml", "  answer: ", "  answer: lots # ")
    _edit(directory / "dialog.yaml", "tie_break: flask", "tie_break: django")
    _edit(directory / "conversation.yaml", "[performance, documentation", "[speed, documentation")
    problems = _problems(directory)
    files = {p.split(":", 1)[0].rsplit("/", 1)[-1] for p in problems}
    assert files == {"facts.yaml", "matching.yaml", "dialog.yaml", "conversation.yaml"}
    assert any("conversation.yaml" in p and "unknown fact id 'speed'" in p for p in problems)


def test_missing_file_and_missing_directory(tmp_path: Path, knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    (directory / "matching.yaml").unlink()
    assert any("matching.yaml:0: file is missing" in p for p in _problems(directory))
    assert any("not found" in p for p in _problems(tmp_path / "nowhere"))


MUTATIONS = ("delete", "duplicate", "indent", "dedent", "number", "symbol", "empty", "swap",
             "yes", "null", "tab", "list", "colon")  # fmt: skip


def _mutate(lines: list[str], rng: random.Random) -> None:
    """One random edit of the kind a hurried author makes."""
    i = rng.randrange(len(lines))
    line, key = lines[i], lines[i].split(":")[0]
    edit = rng.choice(MUTATIONS)
    if edit == "delete":
        lines.pop(i)
    elif edit == "duplicate":
        lines.insert(i, line)
    elif edit == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif edit == "symbol" and line:
        j = rng.randrange(len(line))
        lines[i] = line[:j] + rng.choice("{}[]:&*!|>'\"%@`#-?,") + line[j + 1 :]
    else:
        lines[i] = {
            "indent": "  " + line,
            "dedent": line.lstrip(),
            "number": f"{key}: 12345",
            "empty": f"{key}:",
            "yes": f"{key}: yes",
            "null": f"{key}: null",
            "tab": "\t" + line,
            "list": f"{key}: [1, {{a: b}}]",
            "colon": line + ": x",
        }.get(edit, line)


def test_randomly_broken_knowledge_gets_file_line_errors_never_a_crash(
    knowledge_copy: Callable[[], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Seeded: a failure replays exactly. Each round breaks a fresh copy in one to three places."""
    rng = random.Random(8)
    problem = re.compile(r"^.+\.(yaml|json):\d+: \S|^\d+ problem\(s\) found\.$")
    broken = 0
    for _ in range(40):
        directory = knowledge_copy()
        path = directory / rng.choice(
            ["facts.yaml", "matching.yaml", "dialog.yaml", "conversation.yaml"]
        )
        lines = path.read_text(encoding="utf-8").splitlines()
        for _ in range(rng.randint(1, 3)):
            _mutate(lines, rng)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        code = main(["check", "--knowledge", str(directory)])
        out, err = capsys.readouterr()
        shutil.rmtree(directory)  # the next round copies afresh
        assert code in {0, 1}
        if code == 0:
            assert ": OK: " in out
            continue
        broken += 1
        assert err.strip(), "a failed check must say why"
        assert all(problem.match(line) for line in err.splitlines()), err
    assert broken > 20  # most edits do break something
