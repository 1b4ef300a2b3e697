"""The shape of the code, enforced: the core never imports Slack, only one module imports redis."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "bot"
SLACK_ADAPTER = PACKAGE / "adapters" / "slack"
# The benchmark's baseline is Bolt's own minimal app: Slack code by definition, not the core.
BOLT_BASELINE = PACKAGE / "bench" / "minimal_app.py"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules_imported(path: Path) -> set[str]:
    """Full dotted names, wherever in the file the import is (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_core_never_imports_slack() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if not path.is_relative_to(SLACK_ADAPTER)
        and path != BOLT_BASELINE
        and _imports(path) & {"slack_bolt", "slack_sdk"}
    ]
    assert offenders == []


def test_only_the_trainer_imports_the_training_libraries() -> None:
    """scikit-learn and numpy are development dependencies: nothing that answers imports them,
    and nothing outside bot/training imports bot.training (bot/cli_knowledge.py does, inside
    `advisor train` alone)."""
    training = PACKAGE / "training"
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if not path.is_relative_to(training) and _imports(path) & {"sklearn", "numpy", "scipy"}
    ]
    assert offenders == []
    reaching_in = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if not path.is_relative_to(training)
        and path.name != "cli_knowledge.py"
        and any(name.startswith("bot.training") for name in _modules_imported(path))
    ]
    assert reaching_in == []


def test_only_the_redis_store_imports_redis() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if path != PACKAGE / "store" / "redis.py" and "redis" in _imports(path)
    ]
    assert offenders == []


def test_modules_stay_small() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}, "a module past ~400 lines is two modules"


def test_the_walk_sees_the_package() -> None:
    names = {path.name for path in _modules()}
    assert {"advisor.py", "matcher.py", "loader.py", "engine.py"} <= names


def test_the_wheel_ships_the_knowledge_base(tmp_path: Path) -> None:
    """Installed from a wheel, `advisor` finds knowledge/ inside the package, from any directory."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {"facts", "matching", "dialog", "conversation", "examples"}
    assert {f"bot/knowledge/{n}.yaml" for n in shipped} <= names
    assert {"bot/knowledge/model.json", "bot/knowledge/model.npy"} <= names
