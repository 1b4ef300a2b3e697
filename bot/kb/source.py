"""Read a YAML file into plain Python data and remember the line of every value.

Authors edit knowledge/ by hand, so every problem must point at a line. PyYAML's `safe_load`
forgets positions; composing the node graph and converting it ourselves keeps them, and lets us
catch what `safe_load` silently accepts (a key written twice in one mapping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import Problem

Loc = tuple[str | int, ...]
# libyaml's composer where PyYAML was built with it: the same nodes and marks, far faster.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceFile:
    """One YAML document with a line number (1-based) for every path inside it."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of `loc`, or of its closest ancestor that exists (a missing field has no line)."""
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.path, self.line_of(loc), message)


def read_yaml(path: Path) -> tuple[SourceFile | None, list[Problem]]:
    """Parse `path`; on a syntax error return no data and the error at its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(path, 0, "file is missing")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, 0, f"cannot be read: {exc}")]
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(path, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked
        return None, [Problem(path, 1, f"YAML syntax error: {exc}")]
    if node is None:
        return None, [Problem(path, 1, "file is empty")]
    source = SourceFile(path, None)
    problems: list[Problem] = []
    try:
        source.data = _Converter(source, problems).convert(node, ())
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        return None, [Problem(path, line, f"YAML error: {exc.problem}")]
    return source, problems


class _Converter:
    """Walks composed nodes; one SafeLoader instance builds the scalars (dates, ints, bools...)."""

    def __init__(self, source: SourceFile, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        source = self.source
        source.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        source = self.source
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.scalars.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                key = str(key)
            if key in result:
                line = key_node.start_mark.line + 1
                self.problems.append(Problem(source.path, line, f"duplicate key '{key}'"))
            result[key] = self.convert(value_node, (*loc, key))
            source.lines[(*loc, key)] = key_node.start_mark.line + 1
        return result
