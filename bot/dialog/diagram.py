"""A Mermaid diagram of the dialog, generated from dialog.yaml so it can never go stale."""

from __future__ import annotations

from bot.kb.dialog_models import DialogFile


def _quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def mermaid(dialog: DialogFile) -> str:
    factors = {f.id: f for f in dialog.factors}
    lines = ["flowchart TD", '    start(["recommend [story]"])']
    lines.append('    story["fill every factor the story states (phrases, then the slot reader)"]')
    lines.append("    start --> story")
    lines.append('    settled{"could any open question still change the framework?"}')
    lines.append("    story --> settled")
    lines.append(
        '    next["ask the open question whose answer can move the verdict most '
        '(dialog.yaml order among equals)"]'
    )
    lines.append("    settled -->|yes| next")
    for factor_id in dialog.order:
        factor = factors[factor_id]
        options = "<br/>".join(f"{n}. {o.label}" for n, o in enumerate(factor.options, 1))
        lines.append(f"    {factor_id}{{{_quote(factor.question)}}}")
        lines.append(f"    {factor_id}_opts[{_quote(options)}]")
        lines.append(f"    {factor_id} --- {factor_id}_opts")
        lines.append(f"    next --> {factor_id}")
        lines.append(f"    {factor_id} -->|answer, unsure or skip| settled")
    lines.append(
        '    verdict(["verdict: framework, confidence, reasons, flip (a tie: a toss-up)"])'
    )
    lines.append(
        "    settled -->|no, or nothing open: say more answers only move the confidence| verdict"
    )
    lines.append("    verdict -.->|go on| next")
    for factor in dialog.factors:
        for rule in factor.infer:
            values = " or ".join(rule.when.is_any)
            lines.append(
                f"    {rule.when.factor} -.->|{values}: {factor.id} = {rule.value}, not asked|"
                f" {factor.id}"
            )
    lines.append(
        '    controls["any time: back, restart, cancel, why, help, skip, '
        'verdict now (just tell me)"]'
    )
    return "\n".join(lines) + "\n"


START_MARK = "<!-- dialog-diagram:start -->"
END_MARK = "<!-- dialog-diagram:end -->"


def splice(document: str, diagram: str) -> str:
    """`document` with the text between the diagram markers replaced by `diagram`."""
    head, found, rest = document.partition(START_MARK)
    _, found_end, tail = rest.partition(END_MARK)
    if not (found and found_end):
        raise ValueError(f"the document has no {START_MARK} ... {END_MARK} block")
    return f"{head}{START_MARK}\n```mermaid\n{diagram}```\n{END_MARK}{tail}"
