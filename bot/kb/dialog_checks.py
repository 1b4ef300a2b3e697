"""Cross-checks of dialog.yaml that a per-field model cannot make: ids, references, order.

The exhaustive proof (every combination of answers ends in a verdict) lives in
bot.dialog.verify; these checks must pass first, because the proof walks these references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.errors import Problem
from bot.kb.dialog_models import FRAMEWORKS, DialogFile
from bot.kb.source import SourceFile

# The factors and options other tools rely on (INTERFACES.md section 4).
REQUIRED_FACTORS: dict[str, tuple[str, ...]] = {
    "app_kind": ("web_app", "api", "ml_model", "prototype"),
    "concurrency": ("high", "low"),
    "validation_docs": ("needed", "not_needed"),
    "async_familiarity": ("comfortable", "new"),
    "control": ("minimal_core", "batteries"),
    "project_size": ("small", "large"),
}


def check_dialog_references(
    source: SourceFile, dialog: DialogFile, fact_ids: set[str]
) -> list[Problem]:
    return [source.problem(loc, message) for loc, message in _findings(dialog, fact_ids)]


def _findings(
    dialog: DialogFile, fact_ids: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    options_of: dict[str, set[str]] = {}
    alias_of: dict[str, str] = {}  # a story phrase may name one option only
    for f_index, factor in enumerate(dialog.factors):
        loc = ("factors", f_index)
        if factor.id in options_of:
            yield (*loc, "id"), f"duplicate factor id '{factor.id}'"
            continue
        ids = [option.id for option in factor.options]
        options_of[factor.id] = set(ids)
        for o_index, option in enumerate(factor.options):
            o_loc = (*loc, "options", o_index)
            for p_index, pattern in enumerate(option.patterns):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    yield (
                        (*o_loc, "patterns", p_index),
                        (f"pattern {pattern!r} is not a valid regular expression: {exc}"),
                    )
            for a_index, alias in enumerate(option.aliases):
                key, owner = " ".join(alias.lower().split()), f"{factor.id}.{option.id}"
                first = alias_of.setdefault(key, owner)
                if first != owner:
                    yield (
                        (*o_loc, "aliases", a_index),
                        f"alias '{alias}' already names {first}: a story could not tell them apart",
                    )
            if ids.index(option.id) != o_index:
                yield (*o_loc, "id"), f"duplicate option id '{option.id}' in factor '{factor.id}'"
            for e_index, effect in enumerate(option.effects):
                if effect.fact not in fact_ids:
                    yield (*o_loc, "effects", e_index, "fact"), f"unknown fact id '{effect.fact}'"
    for framework, reasons in dialog.fallback_reasons.items():
        for r_index, effect in enumerate(reasons):
            r_loc = ("fallback_reasons", framework, r_index)
            if effect.fact not in fact_ids:
                yield (*r_loc, "fact"), f"unknown fact id '{effect.fact}'"
            if effect.favours != framework:
                yield (
                    (*r_loc, "favours"),
                    f"a fallback reason for {framework} favours {effect.favours}",
                )
    for framework in FRAMEWORKS:
        if framework not in dialog.fallback_reasons:
            yield ("fallback_reasons",), f"fallback_reasons has no reasons for {framework}"
    yield from _order_findings(dialog, options_of)
    yield from _inference_findings(dialog, options_of)
    for factor_id, required in REQUIRED_FACTORS.items():
        if factor_id not in options_of:
            yield ("factors",), f"missing required factor '{factor_id}'"
            continue
        for option_id in required:
            if option_id not in options_of[factor_id]:
                index = [f.id for f in dialog.factors].index(factor_id)
                yield (
                    ("factors", index, "options"),
                    (f"factor '{factor_id}' is missing required option '{option_id}'"),
                )


def _order_findings(
    dialog: DialogFile, options_of: dict[str, set[str]]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    seen: set[str] = set()
    for index, factor_id in enumerate(dialog.order):
        if factor_id not in options_of:
            yield ("order", index), f"unknown factor '{factor_id}' in order"
        elif factor_id in seen:
            yield ("order", index), f"factor '{factor_id}' appears twice in order"
        seen.add(factor_id)
    for factor_id in options_of:
        if factor_id not in seen:
            yield ("order",), f"factor '{factor_id}' is never asked: add it to order"


def _inference_findings(
    dialog: DialogFile, options_of: dict[str, set[str]]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for f_index, factor in enumerate(dialog.factors):
        for i_index, rule in enumerate(factor.infer):
            loc = ("factors", f_index, "infer", i_index)
            if rule.value not in options_of.get(factor.id, set()):
                yield (*loc, "value"), f"'{rule.value}' is not an option of '{factor.id}'"
            condition = rule.when
            if condition.factor == factor.id:
                yield (*loc, "when", "factor"), "a factor cannot be inferred from itself"
            elif condition.factor not in options_of:
                yield (*loc, "when", "factor"), f"unknown factor '{condition.factor}'"
            else:
                for v_index, value in enumerate(condition.is_any):
                    if value not in options_of[condition.factor]:
                        yield (
                            (*loc, "when", "is_any", v_index),
                            (f"'{value}' is not an option of '{condition.factor}'"),
                        )
