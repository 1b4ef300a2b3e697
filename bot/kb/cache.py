"""The validated knowledge base, remembered between runs of a one-shot command.

Reading knowledge/ means parsing its YAML and building pydantic's validators: most of what
`advisor ask` costs beyond importing its libraries. The validated result is kept, pickled, in
the user's cache directory under a key made of everything it depends on (the knowledge files'
bytes, the code of the models, Python's and pydantic's versions), so an edit anywhere makes a
new entry and a stale one is never read. A cache that cannot be read or written is skipped:
it only saves time. `advisor check` never uses it: authors always get the full validation.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

import pydantic

from bot.kb import dialog_models, models
from bot.kb.loader import KnowledgeBase, bundled_knowledge_dir, load_knowledge


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "framework-advisor"


def _key(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for module in (models, dialog_models):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(f"{sys.version}|{pydantic.VERSION}|{directory.resolve()}".encode())
    return digest.hexdigest()[:40]


def load_cached(directory: Path | None = None) -> KnowledgeBase:
    """load_knowledge(directory), from the cache when the same knowledge was loaded before."""
    directory = directory or bundled_knowledge_dir()
    if not directory.is_dir():
        return load_knowledge(directory)  # its error, as load_knowledge words it
    path = cache_dir() / f"knowledge-{_key(directory)}.pickle"
    try:
        kb = pickle.loads(path.read_bytes())
        if isinstance(kb, KnowledgeBase):
            return kb
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    kb = load_knowledge(directory)
    _store(path, pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL))
    return kb


def _store(path: Path, data: bytes) -> None:
    """Written whole or not at all: a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".knowledge-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(name, path)
    except OSError:
        Path(name).unlink(missing_ok=True)
