"""Split the collected real messages (tests/data/corpus/raw/) into train, dev and test.

Run once: `python -m bot.training.split`. Each message goes to a split by a hash of its text,
so the split does not depend on the order files were read in; verbatim messages (people's own
words) go to test twice as often as written variants. Slack-style copies of a message are made
inside its own split, never across, so nothing of the test split leaks into training.

train -> knowledge/examples.yaml (the model learns from it); dev -> tests/data/corpus/dev.yaml
(thresholds and settings are tuned on it); test -> tests/data/corpus/test.yaml (never tuned on:
its sha256 is in the README).
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
from pathlib import Path
from typing import Any

import yaml

RAW = Path("tests/data/corpus/raw")
# The collected files behind the frozen test split. A new batch is split into files of its own,
# so the test split's sha256 (README) never changes.
BATCH = tuple(f"h{n}_{name}.yaml" for n, name in (
    (1, "concurrency"), (2, "api_features"), (3, "choosing"), (4, "hard_negatives"),
    (5, "slack"), (7, "short_questions"), (8, "long_stories"), (9, "negatives"),
))  # fmt: skip
OUT = {
    "train": Path("knowledge/examples.yaml"),
    "dev": Path("tests/data/corpus/dev.yaml"),
    "test": Path("tests/data/corpus/test.yaml"),
}
UNCOVERED = Path("tests/data/corpus/uncovered.yaml")
# The questions the hand-tuned matcher was tuned on, written in the knowledge base's voice:
# all of them train the model (questions_holdout.yaml stays out, as a second held-out set).
LEGACY = Path("tests/data/questions.yaml")
_LEGACY_GROUPS = {"greetings": "chitchat", "how-to": "howto", "other frameworks": "other_pair"}
_OTHERS = re.compile(
    r"\b(django|rails|express|laravel|nestjs|react|vue|go|rust|spring|tornado|"
    r"aiohttp|next\.js|remix|celery|kubernetes|nomad)\b",
    re.IGNORECASE,
)
HEADERS = {
    "train": "Real messages the matcher's model is trained on (the train split of the corpus in\n"
    "tests/data/corpus/, made by bot/training/split.py). Edit freely: add a question people\n"
    "ask, with every fact that answers it, then run `advisor train`.",
    "dev": "The dev split of the corpus: thresholds and training settings are tuned on it.",
    "test": "The TEST split of the corpus: never tuned on, never edited (its sha256 is in the\n"
    "README). A new part goes in a new, separately hashed file.",
}
_SHARE_TEST = {"verbatim": 40, "variant": 20}
_SHARE_DEV = 15
_SLACK_SHARE = 12  # percent of messages that get a Slack-style copy


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _bucket(text: str) -> int:
    return int(hashlib.sha256(_norm(text).encode()).hexdigest(), 16) % 100


def _key(text: str) -> str:
    """A message as the second labelling is matched to it: without Slack markup."""
    return _norm(re.sub(r"<[@!][^>]*>|:[a-z_]+:|[`*_]", "", text))


def second_labelling() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The independent second labels of the test split, and the calls made where the two
    labellings disagreed on whether a message is ours."""
    second = {
        _key(item["q"]): item
        for path in sorted(RAW.glob("second_labels_*.yaml"))
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    }
    decided = yaml.safe_load((RAW / "adjudication.yaml").read_text(encoding="utf-8"))
    return second, {_norm(d["q"]): d["final"] for d in decided["decisions"]}


def reconcile(entry: dict[str, Any], second: dict[str, Any] | None, final: str | None) -> None:
    """Both labellings agree on scope: every fact either found acceptable is accepted (each
    was asked for all of them). They disagree: the recorded call decides; none is an error."""
    if second is None:
        return
    extra = list(second.get("accept") or [])
    if bool(extra) == ("accept" in entry):
        if extra:
            entry["accept"] += [f for f in extra if f not in entry["accept"]]
        return
    if final is None:
        raise SystemExit(
            f"the labellings disagree on scope, and no call is recorded: {entry['q']!r}"
        )
    if final in ("other_pair", "howto", "chitchat", "offtopic"):
        entry.pop("accept", None)
        entry["reason"] = final
    else:
        entry.pop("reason", None)
        entry["accept"] = list(extra)


def _split(item: dict[str, Any]) -> str:
    share = _SHARE_TEST.get(item["kind"], 20)
    bucket = _bucket(item["q"])
    if bucket < share:
        return "test"
    return "dev" if bucket < share + _SHARE_DEV else "train"


def _slack_copy(text: str, rng: random.Random) -> str:
    """The same message as Slack delivers it: a mention first, markup around a word or two."""
    words = text.split()
    if len(words) > 3:
        i = rng.randrange(len(words))
        words[i] = rng.choice(["*{}*", "`{}`", "_{}_"]).format(words[i])
    styled = " ".join(words)
    mention = rng.choice(["<@U0ADV1SOR> ", "<@U0ADV1SOR|advisor> ", ""])
    tail = rng.choice(["", " :thinking_face:", " :pray:", " <!here>", ""])
    return f"{mention}{styled}{tail}"


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"q": item["q"]}
    if item.get("accept"):
        entry["accept"] = list(item["accept"])
    else:
        entry["reason"] = item.get("oos") or "offtopic"
    entry["kind"] = item["kind"]
    entry["source"] = item.get("source", "")
    return entry


def collect() -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "dev": [], "test": []}
    uncovered: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in (RAW / name for name in BATCH):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        uncovered += data.get("uncovered") or []
        for item in data.get("items") or []:
            key = _norm(item["q"])
            if not key or key in seen:
                continue
            seen.add(key)
            item["kind"] = "verbatim" if item.get("kind") == "verbatim" else "variant"
            splits[_split(item)].append(_entry(item))
    second, decided = second_labelling()
    for entry in splits["test"]:
        key = _key(entry["q"])
        reconcile(entry, second.get(key), decided.get(key))
    for name, entries in splits.items():
        copies = []
        for entry in entries:
            if _bucket(entry["q"] + "slack") < _SLACK_SHARE:
                # Seeded by the message itself: adding messages never changes another's copy.
                rng = random.Random(_bucket(entry["q"] + "style"))
                copy = {**entry, "q": _slack_copy(entry["q"], rng), "kind": "variant"}
                copies.append(copy)
        splits[name] = entries + copies
    return splits, uncovered


def legacy_items() -> list[dict[str, Any]]:
    """tests/data/questions.yaml as corpus items; out-of-scope reasons from its group comments."""
    data = yaml.safe_load(LEGACY.read_text(encoding="utf-8"))
    source = f"{LEGACY} (written for the first matcher)"
    items = [
        {"q": q["q"], "accept": q["accept"], "kind": "written", "source": source}
        for q in data["in_scope"]
    ]
    reasons: dict[str, str] = {}
    group = "offtopic"
    for line in LEGACY.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            comment = stripped[2:]
            group = next(
                (r for k, r in _LEGACY_GROUPS.items() if comment.startswith(k)), "offtopic"
            )
            if "title" in comment or "discord" in comment:
                group = "howto"
        elif stripped.startswith("- {q:"):
            reasons[yaml.safe_load(stripped)[0]["q"]] = group
    for other in data["out_of_scope"]:
        reason = reasons.get(other["q"], "offtopic")
        if _OTHERS.search(other["q"]) and not re.search(r"flask|fastapi", other["q"], re.I):
            reason = "other_pair"
        items.append({"q": other["q"], "oos": reason, "kind": "written", "source": source})
    return items


def _dump(entries: list[dict[str, Any]], header: str) -> str:
    in_scope = [e for e in entries if "accept" in e]
    out = [e for e in entries if "reason" in e]
    body = yaml.safe_dump(
        {"in_scope": in_scope, "out_of_scope": out},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    comment = "\n".join(f"# {line}".rstrip() for line in header.splitlines())
    return f"{comment}\n\n{body}"


def main() -> int:
    splits, uncovered = collect()
    taken = {_norm(e["q"]) for entries in splits.values() for e in entries}
    splits["train"] += [_entry(i) for i in legacy_items() if _norm(i["q"]) not in taken]
    for name, entries in splits.items():
        OUT[name].write_text(_dump(entries, HEADERS[name]), encoding="utf-8")
        verbatim = sum(e["kind"] == "verbatim" for e in entries)
        inside = sum("accept" in e for e in entries)
        print(f"{name}: {len(entries)} ({inside} in scope, {verbatim} verbatim) -> {OUT[name]}")
    UNCOVERED.write_text(
        "# Questions people ask that no fact answers yet (for the knowledge issue).\n"
        + yaml.safe_dump({"uncovered": uncovered}, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
