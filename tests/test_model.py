"""The trained model as shipped: fresh, read without numpy, refused clearly when broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.kb.loader import DIALOG_EXAMPLES_FILE, KnowledgeBase, load_dialog_examples, load_knowledge
from bot.matching.matcher import Matcher, model_path, trained_on
from bot.matching.model import (
    MODEL_FILE,
    WEIGHTS_FILE,
    Layout,
    LinearModel,
    ModelError,
    knowledge_digest,
    npy_bytes,
    read_npy,
)
from bot.matching.slots import SLOTS_FILE
from tests.conftest import ROOT, MakeCopy, run_advisor


def test_the_shipped_model_is_trained_on_the_shipped_knowledge(kb: KnowledgeBase) -> None:
    model = LinearModel.load(model_path(kb), knowledge_digest(trained_on(kb)))
    assert set(kb.facts) <= set(model.classes)
    assert {"talk", "oos:howto", "oos:other_pair", "oos:offtopic"} <= set(model.classes)


def test_answering_loads_neither_numpy_nor_scikit_learn() -> None:
    probe = (
        "import sys; from bot.cli import main; main(['ask', 'docs?']); "
        "print(sorted(m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert out.strip().endswith("[]"), out


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("delete", "the trained model is missing"),
        ("garble", "unreadable"),
        ("truncate", "its weights are not the ones model.json was built with"),
        ("no weights", "the trained model is missing"),
        ("stale", "knowledge/ changed since the model was trained"),
    ],
)
def test_a_broken_model_is_named_with_the_command_that_rebuilds_it(
    knowledge_copy: MakeCopy, damage: str, says: str
) -> None:
    directory = knowledge_copy()
    path = directory / MODEL_FILE
    if damage == "delete":
        path.unlink()
    elif damage == "garble":
        path.write_text("{not json", encoding="utf-8")
    elif damage == "truncate":
        weights = directory / WEIGHTS_FILE
        weights.write_bytes(weights.read_bytes()[:-400])
    elif damage == "no weights":
        (directory / WEIGHTS_FILE).unlink()
    else:
        facts = directory / "facts.yaml"
        facts.write_text(facts.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    with pytest.raises(ModelError, match="run `advisor train`") as caught:
        Matcher(load_knowledge(directory))
    assert says in str(caught.value)

    check = run_advisor("check", "--knowledge", str(directory))
    assert check.returncode == 1
    assert f":1: {says}" in check.stderr
    assert "advisor train" in check.stderr
    assert "Traceback" not in check.stderr

    serve = run_advisor(
        "serve",
        "--http",
        "--knowledge",
        str(directory),
        env={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "PORT": "47123"},
    )
    assert serve.returncode == 1
    lines = serve.stderr.strip().splitlines()
    assert lines[-1].startswith("advisor: "), serve.stderr
    assert says in lines[-1], serve.stderr
    assert "Traceback" not in serve.stderr


def test_hostile_text_costs_little_and_gets_no_fact(matcher: Matcher) -> None:
    hostile = [
        "a" * 100_000,
        "\x00\x01\x02\x1b[31m" * 1000,
        "\u202e\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd" * 500,
        "🔥😂🚀" * 2000,
        "<!channel> " * 5000,
    ]
    for text in hostile:
        result = matcher.match(text)
        assert result.fact_id is None, text[:20]


def test_a_long_story_is_read_at_both_ends(matcher: Matcher) -> None:
    story = (
        "so we have this internal tool, about a dozen people use it, it talks to postgres and "
        "renders a few reports; my manager read a blog post and now there is a whole thread "
        "about rewriting it. " * 4
    )
    question = "honestly does fastapi have auto generated swagger docs like everyone says?"
    assert matcher.match(story + question).fact_id == "documentation"


def test_a_new_unseen_word_is_scored_from_its_letters_and_remembered(kb: KnowledgeBase) -> None:
    model = LinearModel.load(model_path(kb), knowledge_digest(trained_on(kb)))
    matcher = Matcher(kb, model)
    first = matcher.match("websockettt support in fastapi?")
    second = matcher.match("websockettt support in fastapi?")
    assert first == second
    assert first.fact_id == "realtime"


def test_knowledge_digest_changes_with_any_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\n")
    b.write_text("y: 2\n")
    before = knowledge_digest([a, b])
    assert knowledge_digest([b, a]) == before  # order does not matter
    b.write_text("y: 3\n")
    assert knowledge_digest([a, b]) != before


def test_weights_round_trip_through_numpys_file_format() -> None:
    from array import array

    values = array("f", [0.5, -1.25, 3.0, 0.0, 2.5, -0.125])
    data = npy_bytes(values, (2, 3))
    assert read_npy(data, (2, 3)) == values
    assert read_npy(data, (3, 2)) is None  # another shape
    assert read_npy(data[:-4], (2, 3)) is None  # cut short
    assert read_npy(b"not numpy", (2, 3)) is None
    import io

    import numpy  # a development dependency, as `make test` installs it

    assert numpy.load(io.BytesIO(data)).tolist() == [[0.5, -1.25, 3.0], [0.0, 2.5, -0.125]]


def test_the_row_layout_round_trips(kb: KnowledgeBase) -> None:
    layout = LinearModel.load(model_path(kb)).layout
    names = layout.names()
    assert len(names) == layout.size
    assert Layout.of(names) == layout
    assert {name[:2] for name in names} == {"v:", "b:", "f:", "c:"}


@pytest.mark.parametrize("damage", ["delete", "no weights"])
def test_a_missing_slot_reader_is_named_with_the_command_that_rebuilds_it(
    knowledge_copy: MakeCopy, damage: str
) -> None:
    directory = knowledge_copy()
    if damage == "delete":
        (directory / SLOTS_FILE).unlink()
    else:
        (directory / SLOTS_FILE).with_suffix(".npy").unlink()
    with pytest.raises(ModelError, match="run `advisor train`") as caught:
        Matcher(load_knowledge(directory))
    assert "slots" in str(caught.value)
    check = run_advisor("check", "--knowledge", str(directory))
    assert check.returncode == 1
    assert "slots" in check.stderr
    assert "Traceback" not in check.stderr


def test_a_bad_dialog_example_names_its_file_and_line(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    path = directory / DIALOG_EXAMPLES_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "app_kind: api")
    lines[at] = lines[at].replace("app_kind: api", "app_kind: spaceship")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kb = load_knowledge(directory)
    with pytest.raises(KnowledgeError) as caught:
        load_dialog_examples(path, kb.dialog)
    assert f"{DIALOG_EXAMPLES_FILE}:{at + 1}:" in str(caught.value)
    assert "app_kind: spaceship" in str(caught.value)
