"""Slack in, Advisor.handle out: where a Slack message becomes a conversation key and an Inbound,
and the replies become posts. No decision about what to say is made here.

Posting happens inside the conversation's transaction through a SlackCourier (see
bot.core.delivery): each post is marked with its turn in message metadata, so a replica that
finishes a turn another one died in can see which posts already arrived.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import blocks
from bot.adapters.slack.insights import SlackInsights
from bot.core import wording
from bot.core.advisor import Advisor
from bot.core.delivery import Post
from bot.core.messages import Choice, Inbound, Reply
from bot.core.quota import OverQuota, Quota
from bot.store.base import ConversationKey

log = logging.getLogger("bot.slack")

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")

OPENING = (
    "Let's pick between Flask and FastAPI for your project. I'll ask a few questions in this "
    "thread: click an answer or reply here."
)
ELSEWHERE = "Happy to help you choose! I'm continuing in a direct message with you."


@dataclass(frozen=True)
class Place:
    """Where replies go: a channel, and the thread inside it (empty: top level)."""

    channel: str
    thread_ts: str = ""


def key_from_string(value: str) -> ConversationKey:
    surface, team, channel, thread, user = value.split(":")
    return ConversationKey(surface, team, channel, thread, user)


class SlackCourier:
    """Posts a turn's messages at one place; finds them again by their metadata mark."""

    def __init__(
        self, client: WebClient, key: ConversationKey, place: Place, recheck: bool = False
    ) -> None:
        self.client = client
        self.key = key
        self.place = place
        self.recheck = recheck  # a redo: each post may have arrived before the process died

    def render(self, replies: Sequence[Reply]) -> list[Post]:
        return [m.post_args() for m in blocks.messages(replies, self.key.as_string())]

    def send(self, turn: str, index: int, post: Post) -> None:
        if self.recheck and self.delivered(turn, index, post):
            return
        args = {**post, "metadata": blocks.marked(post.get("metadata"), turn, index)}
        if self.place.thread_ts:
            args["thread_ts"] = self.place.thread_ts
        self.client.chat_postMessage(
            channel=self.place.channel, unfurl_links=False, unfurl_media=False, **args
        )

    def delivered(self, turn: str, index: int, post: Post) -> bool:
        try:
            if self.place.thread_ts:
                found = self.client.conversations_replies(
                    channel=self.place.channel,
                    ts=self.place.thread_ts,
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                found = self.client.conversations_history(
                    channel=self.place.channel, include_all_metadata=True, limit=50
                )
        except SlackApiError as exc:
            # Channel threads need channels:history, which the advisor does not ask for:
            # there, an interrupted turn is re-posted rather than risk losing it.
            log.warning("cannot check delivery of turn %s: %s", turn, exc.response.get("error"))
            return False
        for message in found.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("turn") == turn and payload.get("index") == index:
                return True
        return False


RATE_WINDOW_SECONDS = 60


def _limit_name(user: str) -> str:
    return f"user:{user}"


RATE_LIMITED = (
    "You're sending messages faster than I can keep up with. Give me a minute, then try again."
)


class SlackService:
    def __init__(
        self, advisor: Advisor, rate_limit: int = 0, admins: frozenset[str] = frozenset()
    ) -> None:
        self.advisor = advisor
        self.rate_limit = rate_limit
        self.insights = SlackInsights(advisor, admins)

    def over_limit(self, user: str) -> int:
        """0 within the limit; otherwise how far over (1: the first message over it). For
        what is not a conversation's turn (a slash command's answer, a vote): counted first."""
        if not self.rate_limit or not user:
            return 0
        count = self.advisor.store.hit(_limit_name(user), RATE_WINDOW_SECONDS)
        return max(0, count - self.rate_limit)

    # -- what the advisor is asked -------------------------------------------------------

    def starts_dialog(self, text: str) -> bool:
        understanding = self.advisor.understanding
        return understanding.is_recommend_command(text) or understanding.asks_for_recommendation(
            text
        )

    def converse(
        self,
        client: WebClient,
        key: ConversationKey,
        inbound: Inbound,
        place: Place,
        redo: bool = False,
    ) -> list[Reply]:
        """Run one turn and post its replies at `place`, all inside the conversation's lock.

        The rate limit is checked inside that lock too (Advisor.handle, Quota): well under
        it, the count is only read before the reply and written after it.
        """
        limited = self.rate_limit and key.user
        quota = (
            Quota(_limit_name(key.user), self.rate_limit, RATE_WINDOW_SECONDS) if limited else None
        )
        courier = SlackCourier(client, key, place, recheck=redo)
        try:
            return self.advisor.handle(key, inbound, courier=courier, quota=quota)
        except OverQuota as refused:
            if refused.over == 1:  # said once a minute; after that, the messages are dropped
                client.chat_postEphemeral(
                    channel=place.channel,
                    user=key.user,
                    thread_ts=place.thread_ts or None,
                    text=RATE_LIMITED,
                )
            return [Reply("info", RATE_LIMITED, extras={"event": "rate_limited"})]

    def start_dialog_in_dm(self, client: WebClient, team: str, user: str, text: str) -> list[Reply]:
        """Open a DM, post the opening message, and run the dialog in its thread."""
        opened = client.conversations_open(users=user)
        channel = opened["channel"]["id"]
        opening = client.chat_postMessage(channel=channel, text=OPENING)
        place = Place(channel, opening["ts"])
        key = ConversationKey("dm", team, channel, place.thread_ts, user)
        story = self.advisor.understanding.story_after_command(text)
        return self.converse(client, key, Inbound(text=f"recommend {story}".strip()), place)

    # -- the surfaces ----------------------------------------------------------------------

    def on_mention(
        self,
        client: WebClient,
        event: dict[str, Any],
        team: str,
        delivery: str | None,
        redo: bool = False,
    ) -> list[Reply]:
        text = _MENTION.sub(" ", event.get("text", "")).strip()
        user = event.get("user", "")
        thread = event.get("thread_ts") or event["ts"]
        place = Place(event["channel"], thread)
        if self.starts_dialog(text):
            client.chat_postMessage(channel=place.channel, thread_ts=thread, text=ELSEWHERE)
            return self.start_dialog_in_dm(client, team, user, text)
        key = ConversationKey("mention", team, event["channel"], thread, user)
        return self.converse(client, key, Inbound(text=text, delivery=delivery), place, redo)

    def on_direct_message(
        self,
        client: WebClient,
        event: dict[str, Any],
        team: str,
        delivery: str | None,
        redo: bool = False,
    ) -> list[Reply]:
        text = event.get("text", "")
        user = event.get("user", "")
        channel = event["channel"]
        inbound = Inbound(text=text, delivery=delivery)
        if event.get("thread_ts"):
            thread = event["thread_ts"]
            key = ConversationKey("dm", team, channel, thread, user)
            return self.converse(client, key, inbound, Place(channel, thread), redo)
        if self.starts_dialog(text):
            # A recommendation runs in a thread under the message that asked for it.
            key = ConversationKey("dm", team, channel, event["ts"], user)
            return self.converse(client, key, inbound, Place(channel, event["ts"]), redo)
        key = ConversationKey("dm", team, channel, "", user)
        return self.converse(client, key, inbound, Place(channel), redo)

    def on_answer_click(
        self,
        client: WebClient,
        body: dict[str, Any],
        value: dict[str, Any],
        delivery: str | None = None,
        redo: bool = False,
    ) -> list[Reply]:
        key = key_from_string(value["k"])
        clicker = body["user"]["id"]
        channel = body["container"]["channel_id"]
        if clicker != key.user:
            client.chat_postEphemeral(
                channel=channel,
                user=clicker,
                thread_ts=key.thread or None,
                text="That recommendation belongs to someone else, so I left it as it was. "
                "Say `recommend` to get your own.",
            )
            return []
        place = Place(channel, key.thread)
        inbound = Inbound(choice=Choice(value["f"], value.get("o")), delivery=delivery)
        state = self.advisor.peek(key)
        if state.seen(delivery):
            return []  # this very click was handled already (a redelivery)
        if state.phase != "asking" or state.pending != value["f"]:
            client.chat_postEphemeral(
                channel=channel,
                user=clicker,
                thread_ts=key.thread or None,
                text="That question was already answered, so nothing changed.",
            )
            return []
        return self.converse(client, key, inbound, place, redo)

    def fact_click(
        self, value: dict[str, Any]
    ) -> tuple[ConversationKey, blocks.SlackMessage, Reply]:
        """The fact a "did you mean" button names, as a message for wherever the button was."""
        key = key_from_string(value["k"])
        fact = self.advisor.kb.facts[value["fact"]]
        reply = Reply("fact", wording.fact_text(fact), fact=fact)
        if self.advisor.recorder is not None:
            offered = value.get("c")
            candidates = [str(c) for c in offered] if isinstance(offered, list) else []
            self.advisor.recorder.chosen(key, fact.id, candidates)
        return key, blocks.fact_message(fact), reply

    def slash_reply(
        self, text: str, team: str, channel: str, user: str
    ) -> tuple[dict[str, Any], bool, list[Reply]]:
        """The ephemeral (or shared) response to `/advisor <text>`: (respond kwargs, whether a
        dialog should start in a DM, the replies behind the response)."""
        words = text.strip()
        share = False
        first, _, rest = words.partition(" ")
        if first.lower() == "share":
            share, words = True, rest.strip()
        command = words.lower()
        kind = "in_channel" if share else "ephemeral"
        replies: list[Reply] = []
        window = self.insights.stats_window(command)
        if window is not None:  # "stats" or "stats 30d"; "stats on github stars?" is a question
            note = Reply("info", "stats", extras={"event": "stats"})
            return self.insights.stats_response(user, window), False, [note]
        if command in {"", "help", "compare"}:
            if self.advisor.recorder is not None:  # counted, though no conversation is needed
                self.advisor.recorder.other("slash")
            if command == "compare":
                message = blocks.compare_message(self.advisor.kb.facts.values())
            else:
                message = blocks.help_message(wording.HELP)
        elif self.starts_dialog(words):
            sent = "I've sent you a direct message to work out the right framework together."
            return {"response_type": "ephemeral", "text": sent}, True, replies
        elif self.over_limit(user):
            note = Reply("info", RATE_LIMITED, extras={"event": "rate_limited"})
            return {"response_type": "ephemeral", "text": RATE_LIMITED}, False, [note]
        else:
            key = ConversationKey("slash", team, channel, "", user)
            replies = self.advisor.handle(key, Inbound(text=words))
            message = blocks.messages(replies, key.as_string())[0]
        response = {"response_type": kind, "text": message.text, "blocks": message.blocks_json()}
        return response, False, replies
