"""Bolt listeners: wiring only. Each records its delivery in the inbox, acks, and does its
work in an executor.

The App runs with process_before_response=True, so the HTTP response (the ack) is sent as
soon as the listener returns, and the work runs in the executor: that skips Bolt's default
runner, which polls every 10 ms for the ack (slack_bolt/listener/thread_runner.py). A
delivery that cannot be recorded is refused with 503, which Slack retries: never a 200 for
work that is not on record (inbox.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.adapters.slack import blocks
from bot.adapters.slack.executor import BoundedExecutor
from bot.adapters.slack.inbox import Inbox, Job
from bot.adapters.slack.incoming import (
    Incoming,
    Malformed,
    Work,
    clicker,
    inbox_id,
    observed,
)
from bot.adapters.slack.insights import Rating
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import Telemetry
from bot.core.messages import Reply
from bot.errors import StoreError
from bot.insights.events import Subject
from bot.store.base import Entry

log = logging.getLogger("bot.slack")


def _event(body: dict[str, Any]) -> dict[str, Any]:
    """The event, with the fields every listener relies on checked (types included)."""
    event = body.get("event")
    if not isinstance(event, dict):
        raise Malformed("no event object")
    for name in ("channel", "ts"):
        if not isinstance(event.get(name), str):
            raise Malformed(f"event.{name} is missing or not text")
    if not isinstance(event.get("text", ""), str) or not isinstance(event.get("user", ""), str):
        raise Malformed("event.text or event.user is not text")
    if not isinstance(event.get("thread_ts") or "", str):
        raise Malformed("event.thread_ts is not text")
    return event


def _value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON value of the clicked button, as our own buttons carry it."""
    try:
        value = json.loads(body["actions"][0]["value"])
        key = value["k"]
    except (KeyError, IndexError, TypeError, ValueError):
        raise Malformed("the button's value is not one of ours") from None
    if not isinstance(value, dict) or not isinstance(key, str) or key.count(":") != 4:
        raise Malformed("the button's value is not one of ours")
    if clicker(body) is None:
        raise Malformed("no user id")
    return value


def register_listeners(
    app: App, service: SlackService, executor: BoundedExecutor, telemetry: Telemetry
) -> Inbox:
    """Register every listener; the inbox they record deliveries in (start it to resume work
    a dead process left)."""
    runs: dict[str, Callable[[Incoming], bool]] = {}

    def rebuild(entry: Entry) -> Job:
        """The job of a delivery read back from the inbox."""
        data = entry.data
        body = data["body"]
        url = body.get("response_url")
        incoming = Incoming(
            body,
            app.client,
            BoltContext(team_id=data.get("team_id"), bot_user_id=data.get("bot_user_id")),
            Respond(response_url=url) if isinstance(url, str) else None,
            redo=entry.attempts > 1,
        )
        run = runs[data["work"]]
        return lambda: run(incoming)

    inbox = Inbox(service.advisor.store, executor, rebuild)

    def later(work: Work) -> Callable[..., BoltResponse | None]:
        """A listener that records the delivery, acks, and hands the work to the executor:
        the HTTP response (or Socket Mode ack) goes out at once. Unlike Bolt's lazy
        listeners, the request is not deep-copied for the work: it only reads the body."""
        name = work.__name__.removeprefix("on_")
        run = runs[name] = observed(work, name, telemetry)

        def listener(
            ack: Ack,
            body: dict[str, Any],
            context: BoltContext,
            request: BoltRequest,
            respond: Respond | None = None,
        ) -> BoltResponse | None:
            # The app's own client, not the copy Bolt makes for each request: that copy is a
            # plain WebClient, and ours keeps its connections to Slack open (transport.py).
            # Shared safely: nothing here ever changes its token.
            incoming = Incoming(body, app.client, context, respond)
            data = {
                "work": name,
                "body": body,
                "team_id": context.team_id,
                "bot_user_id": context.bot_user_id,
            }
            try:
                inbox.admit(inbox_id(body, request.raw_body), data, lambda: run(incoming))
            except StoreError as exc:
                telemetry.handled(name, "store_error", 0.0, [], None)
                log.error("refused a %s for Slack to retry: it cannot be recorded: %s", name, exc)
                return BoltResponse(status=503, body="")
            ack()
            return None

        return listener

    work = Listeners(service)
    # Bolt tries listeners in this order, building every listener's arguments to ask whether
    # it matches: messages first, as their reply is what people wait for (bench).
    app.event("app_mention")(later(work.on_mention))
    app.event("message")(later(work.on_message))
    app.command("/advisor")(later(work.on_command))
    app.action(re.compile(f"^{blocks.ANSWER_ACTION}_"))(later(work.on_answer))
    app.action(re.compile(f"^{blocks.FACT_ACTION}_"))(later(work.on_fact))
    app.action(blocks.START_ACTION)(later(work.on_start))
    app.action(re.compile(f"^{blocks.FEEDBACK_ACTION}_(up|down)$"))(later(work.on_feedback))
    app.event("app_home_opened")(later(work.on_home))
    _acknowledge_the_rest(app)
    return inbox


class Listeners:
    """The work behind each listener: check the payload, then hand it to the service."""

    def __init__(self, service: SlackService) -> None:
        self.service = service

    def on_command(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        url = body.get("response_url")
        if incoming.respond is None or not isinstance(url, str):
            raise Malformed("a command without a response_url")
        if not url.startswith(("https://", "http://")):
            raise Malformed("a command whose response_url is not a web address")
        team, user = incoming.team, str(body.get("user_id", ""))
        text = str(body.get("text", ""))
        response, dialog, replies = self.service.slash_reply(
            text, team, str(body.get("channel_id", "")), user
        )
        incoming.respond(**response)
        if dialog:  # Slack never redelivers slash commands
            return self.service.start_dialog_in_dm(client, team, user, text)
        return replies

    def on_mention(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        event = _event(body)
        if event.get("bot_id") or event.get("subtype"):
            return None
        return self.service.on_mention(
            client, event, incoming.team, incoming.delivery, incoming.redo
        )

    def on_message(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        event = _event(body)
        # Only people writing in a DM with the advisor: no edits, no bots (itself included).
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return None
        if incoming.context.bot_user_id and event.get("user") == incoming.context.bot_user_id:
            return None
        return self.service.on_direct_message(
            client, event, incoming.team, incoming.delivery, incoming.redo
        )

    def on_answer(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        value = _value(body)
        if not isinstance(value.get("f"), str) or not isinstance(value.get("o"), str | None):
            raise Malformed("the answer button names no factor and option")
        return self.service.on_answer_click(client, body, value, incoming.delivery, incoming.redo)

    def on_fact(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        value = _value(body)
        fact = value.get("fact")
        if not isinstance(fact, str) or fact not in self.service.advisor.kb.facts:
            raise Malformed("the button names no fact")
        key, message, reply = self.service.fact_click(value)
        container = body.get("container") or {}
        if incoming.respond is not None and (
            container.get("is_ephemeral") or key.surface == "slash"
        ):
            incoming.respond(
                response_type="ephemeral",
                replace_original=False,
                text=message.text,
                blocks=message.blocks_json(),
            )
            return [reply]
        args = message.post_args()
        if key.thread:
            args["thread_ts"] = key.thread
        client.chat_postMessage(channel=container.get("channel_id", key.channel), **args)
        return [reply]

    def on_feedback(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        rating = self._rating(incoming)
        if self.service.over_limit(rating.user):  # clicks count against the limit, too
            return [Reply("info", "rate limited", extras={"event": "rate_limited"})]
        text = self.service.insights.rate(rating)
        if rating.ephemeral and incoming.respond is not None:
            # An ephemeral message (a slash command's answer) has no place a post could go.
            incoming.respond(response_type="ephemeral", replace_original=False, text=text)
        else:
            thread = (body.get("container") or {}).get("thread_ts")
            client.chat_postEphemeral(
                channel=rating.channel, user=rating.user, thread_ts=thread, text=text
            )
        return [Reply("info", text, extras={"event": "feedback"})]

    def _rating(self, incoming: Incoming) -> Rating:
        body = incoming.body
        try:
            value = json.loads(body["actions"][0]["value"])
            subject, ident = value["s"], value["id"]
            up = body["actions"][0]["action_id"].endswith("_up")
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise Malformed("the feedback button's value is not one of ours") from None
        if not isinstance(subject, str) or not isinstance(ident, str):
            raise Malformed("the feedback button's value is not one of ours")
        kind: Subject
        known: Collection[str]
        if subject == "fact":
            kind, known = "fact", self.service.advisor.kb.facts
        elif subject == "verdict":
            kind, known = "verdict", ("flask", "fastapi")
        else:
            raise Malformed("the feedback button rates nothing the advisor said")
        if ident not in known:
            raise Malformed("the feedback button rates nothing the advisor said")
        container = body.get("container") or {}
        user = clicker(body)
        channel, message_ts = container.get("channel_id"), container.get("message_ts")
        if not all(isinstance(x, str) and x for x in (user, channel, message_ts)):
            raise Malformed("a feedback click without its user, channel or message")
        return Rating(
            team=incoming.team,
            user=str(user),
            channel=str(channel),
            message_ts=str(message_ts),
            ephemeral=bool(container.get("is_ephemeral")),
            subject=kind,
            ident=ident,
            value=1 if up else -1,
        )

    def on_start(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        user = clicker(body)
        if user is None:
            raise Malformed("a click without a user")
        return self.service.start_dialog_in_dm(client, incoming.team, user, "recommend")

    def on_home(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        event = body.get("event") or {}
        if not isinstance(event.get("user"), str):
            raise Malformed("app_home_opened without a user")
        if event.get("tab", "home") != "home":
            return None
        self.publish_home(client, event["user"])
        return [Reply("info", "App Home published")]

    @staticmethod
    def publish_home(client: WebClient, user: str) -> None:
        client.views_publish(user_id=user, view=View(type="home", blocks=blocks.home_view_blocks()))


def _acknowledge_the_rest(app: App) -> None:
    """Anything else Slack sends (another command, a shortcut, an event or action we do not
    subscribe to) is acknowledged quietly: a 404 would make Slack show the user an error."""
    anything = re.compile(".*")

    def ignore(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        log.info("ignored %s", body.get("type") or body.get("command") or "request")

    app.command(anything)(ignore)
    app.action(anything)(ignore)
    app.event(anything)(ignore)
    app.shortcut(anything)(ignore)
    app.view(anything)(ignore)
    app.options(anything)(ignore)


# What the listeners above subscribe to; tests compare it with deploy/slack-manifest.yml.
SUBSCRIBED_EVENTS = ("app_mention", "message.im", "app_home_opened")
SLASH_COMMANDS = ("/advisor",)
