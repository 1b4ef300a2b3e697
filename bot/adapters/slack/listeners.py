"""Bolt listeners: wiring only. Each acks at once, then does its work in an executor.

The App runs with process_before_response=True, so the HTTP response (the ack) is sent as
soon as the listener returns, and the work runs in the executor: that skips Bolt's default
runner, which polls every 10 ms for the ack (slack_bolt/listener/thread_runner.py).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Collection
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.models.views import View

from bot.adapters.slack import blocks
from bot.adapters.slack.insights import Rating
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import Telemetry
from bot.core.messages import Reply
from bot.errors import StoreError
from bot.insights.events import Subject

log = logging.getLogger("bot.slack")


def clicker(body: dict[str, Any]) -> str | None:
    """The id of the user who clicked (an interaction payload's `user` is an object)."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else None
    return found if isinstance(found, str) and found else None


def delivery_id(body: dict[str, Any]) -> str | None:
    """What identifies one delivery: the event_id of an event, the action_ts of a click."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        user = clicker(body) or ""
        return f"action:{user}:{body['actions'][0].get('action_ts', '')}"
    return None


@dataclass(frozen=True)
class Incoming:
    """What a listener's work gets: the parsed request and the means to answer it."""

    body: dict[str, Any]
    client: WebClient
    context: BoltContext
    respond: Respond | None

    @property
    def team(self) -> str:
        return _team(self.context, self.body)

    @property
    def delivery(self) -> str | None:
        return delivery_id(self.body)


Work = Callable[[Incoming], "list[Reply] | None"]


class Malformed(ValueError):
    """A payload without the fields a listener needs: ignored, logged in one line."""


def _observed(work: Work, kind: str, telemetry: Telemetry) -> Callable[..., None]:
    """Run `work`, then log one line and count it. No traceback reaches a user: failures end
    the work quietly. Slack or store outages are expected in production and say all in one
    line; anything else is a bug and is logged with its traceback."""

    @functools.wraps(work)
    def run(incoming: Incoming) -> None:
        started = time.perf_counter()
        replies: list[Reply] = []
        try:
            replies = work(incoming) or []
            outcome = "ok" if replies else "ignored"
            if any(r.extras.get("event") == "rate_limited" for r in replies):
                outcome, replies = "rate_limited", []
        except Malformed as exc:
            outcome = "malformed"
            log.warning("ignored a malformed %s request: %s", kind, exc)
        except SlackApiError as exc:
            outcome = "slack_error"
            error = str(exc.response.get("error", ""))
            telemetry.slack_error(error)
            log.error("Slack API call failed handling a %s: %s", kind, error)
        except (URLError, TimeoutError, ConnectionError, SlackRequestError) as exc:
            # Slack (or a response URL) unreachable after every retry: an outage, not a bug.
            outcome = "slack_error"
            telemetry.slack_error("unreachable")
            log.error("Slack could not be reached handling a %s: %s", kind, str(exc)[:200])
        except StoreError as exc:
            outcome = "store_error"
            log.error("store failed handling a %s: %s", kind, exc)
        except Exception:
            outcome = "error"
            log.exception("handling a %s failed", kind)
        telemetry.handled(
            kind, outcome, time.perf_counter() - started, replies, _text(incoming.body)
        )

    return run


def _text(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("text"), str):
        return str(event["text"])
    text = body.get("text")
    return text if isinstance(text, str) else None


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


def _team(context: BoltContext, body: dict[str, Any]) -> str:
    return str(context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or "")


def register_listeners(
    app: App, service: SlackService, executor: Executor, telemetry: Telemetry
) -> None:
    def later(work: Work) -> Callable[..., None]:
        """A listener that acks, hands the work to the executor and returns: the HTTP response
        (or Socket Mode ack) goes out at once. Unlike Bolt's lazy listeners, the request is
        not deep-copied for the work: it only reads the parsed body."""
        logged = _observed(work, work.__name__.removeprefix("on_"), telemetry)

        def listener(
            ack: Ack,
            body: dict[str, Any],
            context: BoltContext,
            respond: Respond | None = None,
        ) -> None:
            ack()
            # The app's own client, not the copy Bolt makes for each request: that copy is a
            # plain WebClient, and ours keeps its connections to Slack open (transport.py).
            # Shared safely: nothing here ever changes its token.
            executor.submit(logged, Incoming(body, app.client, context, respond))

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
        return self.service.on_mention(client, event, incoming.team, incoming.delivery)

    def on_message(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        event = _event(body)
        # Only people writing in a DM with the advisor: no edits, no bots (itself included).
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return None
        if incoming.context.bot_user_id and event.get("user") == incoming.context.bot_user_id:
            return None
        return self.service.on_direct_message(client, event, incoming.team, incoming.delivery)

    def on_answer(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        value = _value(body)
        if not isinstance(value.get("f"), str) or not isinstance(value.get("o"), str | None):
            raise Malformed("the answer button names no factor and option")
        return self.service.on_answer_click(client, body, value, incoming.delivery)

    def on_fact(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        value = _value(body)
        fact = value.get("fact")
        if not isinstance(fact, str) or fact not in self.service.advisor.kb.facts:
            raise Malformed("the button names no fact")
        if not self.service.first_time(incoming.delivery):
            return None
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
        if not self.service.first_time(incoming.delivery):
            return None
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
        return self.service.start_dialog_in_dm(
            client, incoming.team, user, "recommend", incoming.delivery
        )

    def on_home(self, incoming: Incoming) -> list[Reply] | None:
        body, client = incoming.body, incoming.client
        event = body.get("event") or {}
        if not isinstance(event.get("user"), str):
            raise Malformed("app_home_opened without a user")
        if event.get("tab", "home") != "home" or not self.service.first_time(incoming.delivery):
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
