"""The advisor's exceptions.

    AdvisorError                  every error the advisor raises on purpose
    ├── KnowledgeError            knowledge/ is invalid; carries every Problem found, all at once
    └── StoreError                a conversation store cannot be reached or used
        └── StaleStateError       a save lost the race: the state changed since it was loaded

"No match" and "unintelligible answer" are results, not exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a knowledge file, printed as `file:line: message`."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class AdvisorError(Exception):
    """Base of every error the advisor raises on purpose."""


class KnowledgeError(AdvisorError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class StoreError(AdvisorError):
    """The conversation store failed (unreachable, read-only, corrupt value)."""


class StaleStateError(StoreError):
    """Optimistic concurrency: the stored version moved on since this state was loaded."""
