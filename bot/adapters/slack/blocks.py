"""Replies as Slack messages: Block Kit built with slack_sdk.models.blocks, plus fallback text
and message metadata (INTERFACES.md section 6).

Every text that reaches Slack passes through `escape`, ours included: knowledge is data that
anyone may edit, and a reply must never be able to ping a channel.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.metadata import Metadata

from bot.adapters.slack.safety import escape
from bot.core import wording
from bot.core.messages import QuestionView, Reply
from bot.dialog.scoring import Recommendation
from bot.kb.dialog_models import DISPLAY_NAME
from bot.kb.models import Fact

ANSWER_ACTION = "advisor_answer"
FACT_ACTION = "advisor_fact"
START_ACTION = "advisor_start"
FEEDBACK_ACTION = "advisor_feedback"  # _up / _down
_BAR_WIDTH = 10


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: tuple[Block, ...] = ()
    metadata: Metadata | None = None

    def blocks_json(self) -> list[dict[str, Any]]:
        return [_rendered(block) for block in self.blocks]

    def post_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"text": self.text, "blocks": self.blocks_json()}
        if self.metadata is not None:
            args["metadata"] = self.metadata.to_dict()
        return args


# Blocks that are the same for every user (a fact's answer) are rendered, and validated by
# slack_sdk, once: rendering is most of the CPU a reply costs.
_CACHE: dict[int, tuple[Block, dict[str, Any]]] = {}


def _rendered(block: Block) -> dict[str, Any]:
    cached = _CACHE.get(id(block))
    if cached is not None and cached[0] is block:
        return cached[1]
    return block.to_dict()


def _shared(blocks: list[Block]) -> tuple[Block, ...]:
    for block in blocks:
        _CACHE[id(block)] = (block, block.to_dict())
    return tuple(blocks)


def marked(metadata: dict[str, Any] | None, turn: str, index: int) -> dict[str, Any]:
    """Message metadata carrying the turn mark: questions and verdicts keep their own event
    type (their payload gains `turn` and `index`); every other message is `advisor_reply`."""
    mark = {"turn": turn, "index": index}
    if metadata is None:
        return {"event_type": "advisor_reply", "event_payload": mark}
    return {**metadata, "event_payload": {**metadata.get("event_payload", {}), **mark}}


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=escape(text))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_md(text[:2900]))


def _plain(text: str, limit: int) -> PlainTextObject:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return PlainTextObject(text=text, emoji=True)


def messages(replies: Sequence[Reply], key: str) -> list[SlackMessage]:
    """One Slack message per fact, suggestion, question or verdict; notes join the next one."""
    result: list[SlackMessage] = []
    pending_notes: list[Reply] = []
    for reply in replies:
        if reply.kind == "info":
            pending_notes.append(reply)
            continue
        message = render(reply, key)
        notes = tuple(_section(n.text) for n in pending_notes)
        text = "\n".join([*(escape(n.text) for n in pending_notes), message.text])
        result.append(SlackMessage(text, (*notes, *message.blocks), message.metadata))
        pending_notes = []
    if pending_notes:
        result.append(
            SlackMessage(
                text="\n".join(escape(n.text) for n in pending_notes),
                blocks=tuple(_section(n.text) for n in pending_notes),
            )
        )
    return result


def render(reply: Reply, key: str) -> SlackMessage:
    if reply.fact is not None:
        if reply.focus != "full":
            return focused_fact_message(reply.fact, reply.text)
        return fact_message(reply.fact)
    if reply.question is not None:
        return question_message(reply.question, key)
    if reply.recommendation is not None:
        return verdict_message(reply.recommendation)
    if reply.suggestions:
        # The reply's first line introduces the buttons ("Did you mean:", a greeting).
        return suggestions_message(reply.suggestions, key, reply.text.split("\n", 1)[0])
    return SlackMessage(text=escape(reply.text), blocks=(_section(reply.text),))


def focused_fact_message(fact: Fact, text: str) -> SlackMessage:
    """A follow-up's answer: one framework's side of a fact, or its reasoning in depth."""
    title, _, body = text.partition("\n")
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{title}*\n{body}"[:2900])),
        feedback_buttons("fact", fact.id),
    ]
    return SlackMessage(text=escape(text), blocks=tuple(blocks))


def fact_message(fact: Fact) -> SlackMessage:
    return _fact_message(fact.id, fact.title, fact.flask, fact.fastapi, fact.verdict)


@functools.lru_cache(maxsize=1024)
def _fact_message(fact_id: str, title: str, flask: str, fastapi: str, verdict: str) -> SlackMessage:
    blocks: list[Block] = [
        SectionBlock(
            text=_md(f"*{title}*"),
            fields=[_md(f"*Flask*\n{flask}"), _md(f"*FastAPI*\n{fastapi}")],
        ),
        ContextBlock(elements=[_md(f"In short: {verdict}")]),
        feedback_buttons("fact", fact_id),
    ]
    return SlackMessage(text=escape(f"{title}: {verdict}"), blocks=_shared(blocks))


def feedback_buttons(subject: str, ident: str) -> ActionsBlock:
    """👍 / 👎 under an answer. The value names what is rated; the message the click comes
    from (its channel and timestamp) names which copy, so votes count per user per message."""
    value = json.dumps({"s": subject, "id": ident})
    return ActionsBlock(
        block_id=f"{FEEDBACK_ACTION}_{subject}",
        elements=[
            ButtonElement(
                text=_plain("👍 Helpful", 75), action_id=f"{FEEDBACK_ACTION}_up", value=value
            ),
            ButtonElement(
                text=_plain("👎 Not helpful", 75),
                action_id=f"{FEEDBACK_ACTION}_down",
                value=value,
            ),
        ],
    )


def suggestions_message(
    facts: Iterable[Fact], key: str, intro: str = wording.DID_YOU_MEAN
) -> SlackMessage:
    facts = list(facts)
    buttons = [
        ButtonElement(
            text=_plain(fact.title, 75),
            action_id=f"{FACT_ACTION}_{n}",
            value=json.dumps({"k": key, "fact": fact.id, "c": [f.id for f in facts]}),
        )
        for n, fact in enumerate(facts)
    ]
    titles = ", ".join(fact.title for fact in facts)
    return SlackMessage(
        text=escape(f"{intro} {titles}"),
        blocks=(_section(intro), ActionsBlock(elements=buttons)),
    )


def question_message(question: QuestionView, key: str) -> SlackMessage:
    buttons = [
        ButtonElement(
            text=_plain(f"{n}. {option.label}", 75),
            action_id=f"{ANSWER_ACTION}_{n}",
            value=json.dumps({"k": key, "f": question.factor, "o": option.id}),
        )
        for n, option in enumerate(question.options, 1)
    ]
    buttons.append(
        ButtonElement(
            text=_plain("Skip", 75),
            action_id=f"{ANSWER_ACTION}_skip",
            value=json.dumps({"k": key, "f": question.factor, "o": None}),
        )
    )
    prompt = f"*({question.number}/{question.total}) {question.prompt}*"
    if question.numbered_only:
        prompt = f"Sorry, I didn't catch that. *{question.prompt}*"
    listed = "\n".join(f"{n}. {o.label}" for n, o in enumerate(question.options, 1))
    return SlackMessage(
        text=escape(f"{question.prompt}\n{listed}"),
        blocks=(
            _section(prompt),
            ActionsBlock(elements=buttons),
            ContextBlock(
                elements=[
                    _md(
                        "Click, or reply in this thread. `back`, `why`, `restart` and "
                        "`cancel` work too."
                    )
                ]
            ),
        ),
        metadata=Metadata(
            event_type="advisor_question",
            event_payload={
                "factor": question.factor,
                "options": [option.id for option in question.options],
            },
        ),
    )


def score_bar(rec: Recommendation) -> str:
    total = sum(rec.scores.values()) or 1.0
    lines = []
    for framework in ("flask", "fastapi"):
        score = rec.scores[framework]
        filled = round(_BAR_WIDTH * score / total)
        bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
        lines.append(f"`{bar}` {DISPLAY_NAME[framework]} {score:g}")
    return "\n".join(lines)


def verdict_message(rec: Recommendation) -> SlackMessage:
    title = wording.headline(rec)
    reasons = "\n".join(f"• {r.text}" for r in rec.reasons)
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"Recommendation: {title}", 150)),
        _section(f"*{rec.strength}*, confidence {rec.confidence:.2f}\n{score_bar(rec)}"),
        _section(f"*Why*\n{reasons}"),
    ]
    if rec.trade_off is not None:
        blocks.append(_section(f"*Trade-off*\n{rec.trade_off.text}"))
    flip = wording.flip_text(rec)
    blocks += [
        DividerBlock(),
        ContextBlock(elements=[_md(flip)]),
        feedback_buttons("verdict", rec.framework),
    ]
    return SlackMessage(
        text=escape(f"Recommendation: {title} (confidence {rec.confidence:.2f})"),
        blocks=tuple(blocks),
        metadata=Metadata(
            event_type="advisor_recommendation",
            event_payload={
                "framework": rec.framework,
                "confidence": rec.confidence,
                "answers": dict(rec.answers),
            },
        ),
    )


def compare_message(facts: Iterable[Fact]) -> SlackMessage:
    blocks: list[Block] = [HeaderBlock(text=_plain("Flask vs FastAPI, aspect by aspect", 150))]
    for fact in facts:
        blocks.append(
            SectionBlock(
                text=_md(f"*{fact.title}*"),
                fields=[_md(f"*Flask*: {fact.flask}"), _md(f"*FastAPI*: {fact.fastapi}")],
            )
        )
    return SlackMessage(text="Flask vs FastAPI, aspect by aspect", blocks=tuple(blocks[:50]))


def stats_message(page: str) -> SlackMessage:
    """The `advisor stats` page, monospaced: sections of whole lines, each under Slack's limit."""
    chunks: list[str] = []
    size = 0  # of the last chunk once escaped: the length Slack counts
    for line in (whole[:500] for whole in page.rstrip().splitlines()):
        if chunks and size + len(escape(line)) < 2800:
            chunks[-1] += "\n" + line
            size += len(escape(line)) + 1
        else:
            chunks.append(line)
            size = len(escape(line))
    blocks: list[Block] = [HeaderBlock(text=_plain("Framework Advisor usage", 150))]
    blocks += [_section(f"```{chunk}```") for chunk in chunks[:40]]
    return SlackMessage(text=escape(page[:3000]), blocks=tuple(blocks))


def help_message(text: str) -> SlackMessage:
    return SlackMessage(text=escape(text), blocks=(_section(text),))


def home_view_blocks() -> list[Block]:
    return [
        HeaderBlock(text=_plain("Framework Advisor", 150)),
        _section(
            "I help your team choose between *Flask* and *FastAPI*.\n"
            "• Ask me anything: `/advisor is fastapi faster?` or mention me in a channel.\n"
            "• `/advisor compare` shows every aspect side by side.\n"
            "• Get a recommendation: a few questions about your project, then a verdict with "
            "its reasons, in a DM."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=_plain("Get a recommendation", 75),
                    action_id=START_ACTION,
                    value="start",
                    style="primary",
                )
            ]
        ),
    ]
