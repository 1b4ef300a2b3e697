"""`advisor check` proves the dialog, and fails with file:line when an edit breaks it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dialog.diagram import mermaid
from bot.dialog.verify import prove
from bot.errors import KnowledgeError
from bot.kb.loader import DIALOG_FILE, KnowledgeBase, load_knowledge
from tests.conftest import ROOT

MakeCopy = Callable[[], Path]


def test_bundled_dialog_is_proven(kb: KnowledgeBase) -> None:
    proof = prove(kb.dialog, kb.sources[DIALOG_FILE])
    assert proof.errors == []
    assert proof.warnings == []
    assert proof.combinations == 5 * 3**5  # 4 app kinds + unknown; 2 options + unknown


def _prove(directory: Path) -> tuple[list[str], list[str]]:
    kb = load_knowledge(directory)
    proof = prove(kb.dialog, kb.sources[DIALOG_FILE])
    return [str(e) for e in proof.errors], [str(w) for w in proof.warnings]


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_verdict_short_of_two_reasons_is_an_error(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    text = dialog.read_text()
    # Every general Flask reason now rests on templating, which a web-app answer already cites.
    text = text.replace("      fact: ecosystem\n", "      fact: templating\n")
    text = text.replace("      fact: community_resources\n", "      fact: templating\n")
    text = text.replace(
        "      fact: learning_curve\n      reason: Flask is",
        "      fact: templating\n      reason: Flask is",
    )
    dialog.write_text(text)
    errors, _ = _prove(directory)
    assert errors
    assert all(e.startswith(f"{dialog}:") for e in errors)
    assert any("fewer than two reasons for app_kind=web_app" in e for e in errors)


def test_control_word_collisions_are_errors_at_their_line(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    dialog.write_text(
        dialog.read_text().replace("replies: [small, tiny,", "replies: [small, back, '7',")
    )
    errors, _ = _prove(directory)
    line = _line(dialog, "replies: [small, back, '7',")
    assert f"{dialog}:{line}: 'back' is the control word 'back'" in "\n".join(errors)
    assert any("'7' is a number" in e for e in errors)


def test_dead_options_are_reported(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    text = dialog.read_text()
    start = text.index("      - id: large")
    effects = text.index("        effects:", start)
    dialog.write_text(text[:effects] + "        effects: []\n")
    _, warnings = _prove(directory)
    assert any("option 'large' of 'project_size' never changes a verdict" in w for w in warnings)


def test_readme_diagram_is_generated_from_dialog_yaml(kb: KnowledgeBase) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- dialog-diagram:start -->\n```mermaid\n(.*?)```\n<!-- dialog-diagram:end -->",
        readme,
        re.DOTALL,
    )
    assert block, "README.md lost its dialog diagram markers"
    assert block.group(1) == mermaid(kb.dialog), "stale: run `make diagram`"


def test_diagram_shows_every_factor_option_and_inference(kb: KnowledgeBase) -> None:
    diagram = mermaid(kb.dialog)
    for factor in kb.dialog.factors:
        assert factor.question.replace('"', "'") in diagram
        for option in factor.options:
            assert option.label in diagram
    assert "project_size = small, not asked" in diagram


def test_an_alias_naming_two_options_is_an_error_at_its_line(knowledge_copy: MakeCopy) -> None:
    directory = knowledge_copy()
    dialog = directory / "dialog.yaml"
    text = dialog.read_text()
    dialog.write_text(
        text.replace("aliases: [minimal core,", "aliases: [json api, minimal core,", 1)
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    assert any(
        "alias 'json api' already names app_kind.api" in str(p) for p in caught.value.problems
    )
