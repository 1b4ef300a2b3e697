"""Split the collected stories and dialog replies (tests/data/corpus/raw/) into train and test.

`python -m bot.training.split_dialog`. Files the dialog's phrases were written against go to
train whole (measuring on them would flatter); the batches that made the test split are split
by a hash of each text, half to the test split, which is never tuned on (its sha256 is in the
README). Batches collected after the test split was frozen go to train whole, read last, and
without any item that shares a source post with the test split: an answer to the same thread
in other words would leak the test into training.

train -> knowledge/dialog_examples.yaml (the slot reader learns from it);
test -> tests/data/corpus/dialog_test.yaml.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import yaml

RAW = Path("tests/data/corpus/raw")
TRAIN_ONLY = ("h6_stories.yaml",)
SPLIT = ("h10_stories.yaml", "h11_stories.yaml", "h12_replies.yaml")
LATER = ("h13_stories.yaml", "h14_replies.yaml")
TRAIN = Path("knowledge/dialog_examples.yaml")
TEST = Path("tests/data/corpus/dialog_test.yaml")
_TEST_SHARE = 50  # percent
HEADERS = {
    TRAIN: "Project stories and replies to the dialog's questions, from public posts, that the\n"
    "slot reader is trained on (bot/training/split_dialog.py made it from the raw corpus).\n"
    "`fills` holds only the factors a story states. Edit freely, then run `advisor train`.",
    TEST: "The TEST split of the dialog's stories and replies: never tuned on, never edited (its\n"
    "sha256 is in the README). A new part goes in a new, separately hashed file.",
}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _bucket(text: str) -> int:
    return int(hashlib.sha256(_norm(text).encode()).hexdigest(), 16) % 100


def _story(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "story": item["story"],
        "fills": dict(item.get("fills") or {}),
        "existing": item.get("existing"),
        "source": item.get("source", ""),
    }


def _reply(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("factor", "reply", "expect")
    return {**{k: item[k] for k in keys}, "source": item.get("source", "")}


def collect() -> dict[Path, dict[str, list[dict[str, Any]]]]:
    out: dict[Path, dict[str, list[dict[str, Any]]]] = {
        TRAIN: {"stories": [], "replies": []},
        TEST: {"stories": [], "replies": []},
    }
    seen: set[str] = set()
    test_sources: set[str] = set()
    for name in (*TRAIN_ONLY, *SPLIT, *LATER):
        for kind, item in _items(name):
            key = _norm(item["story" if kind == "stories" else "reply"])
            source = item.get("source", "")
            if not key or key in seen or (name in LATER and source in test_sources):
                continue
            seen.add(key)
            test = name in SPLIT and _bucket(key) < _TEST_SHARE
            if test:
                test_sources.add(source)
            shape = _story if kind == "stories" else _reply
            out[TEST if test else TRAIN][kind].append(shape(item))
    return out


def _items(name: str) -> list[tuple[str, dict[str, Any]]]:
    path = RAW / name
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(kind, item) for kind in ("stories", "replies") for item in data.get(kind) or []]


def main() -> int:
    for path, parts in collect().items():
        comment = "\n".join(f"# {line}".rstrip() for line in HEADERS[path].splitlines())
        body = yaml.safe_dump(parts, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(f"{comment}\n\n{body}", encoding="utf-8")
        print(f"{path}: {len(parts['stories'])} stories, {len(parts['replies'])} replies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
