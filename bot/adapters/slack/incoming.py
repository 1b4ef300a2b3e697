"""What a listener's work gets (the request, and the means to answer it), what identifies a
delivery, and how a piece of work is run, logged and counted."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.adapters.slack.telemetry import Telemetry
from bot.core.messages import Reply
from bot.errors import StoreError

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


def inbox_id(body: dict[str, Any], raw_body: str) -> str:
    """The inbox's id of a delivery. Where Slack sends no id (a slash command), a digest of
    the signed body: it holds the command's unique trigger_id, so a replay of the same signed
    request is recognised, and two commands typed alike are not."""
    return delivery_id(body) or "body:" + hashlib.sha256(raw_body.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Incoming:
    """What a listener's work gets: the parsed request and the means to answer it."""

    body: dict[str, Any]
    client: WebClient
    context: BoltContext
    respond: Respond | None
    redo: bool = False  # taken from the inbox after an earlier try: its posts may have arrived

    @property
    def team(self) -> str:
        return team_of(self.context, self.body)

    @property
    def delivery(self) -> str | None:
        return delivery_id(self.body)


Work = Callable[[Incoming], "list[Reply] | None"]


class Malformed(ValueError):
    """A payload without the fields a listener needs: ignored, logged in one line."""


# Outcomes after which the work is tried again from the inbox: the outage may pass.
_PASSING = frozenset({"store_error", "unreachable"})


def observed(work: Work, kind: str, telemetry: Telemetry) -> Callable[[Incoming], bool]:
    """Run `work`, then log one line and count it; whether it is finished with (False: try
    again later). No traceback reaches a user: failures end the work quietly. Slack or store
    outages are expected in production and say all in one line; anything else is a bug and is
    logged with its traceback."""

    @functools.wraps(work)
    def run(incoming: Incoming) -> bool:
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
            outcome = "unreachable"
            telemetry.slack_error("unreachable")
            log.error("Slack could not be reached handling a %s: %s", kind, str(exc)[:200])
        except StoreError as exc:
            outcome = "store_error"
            log.error("store failed handling a %s: %s", kind, exc)
        except Exception:
            outcome = "error"
            log.exception("handling a %s failed", kind)
        counted = "slack_error" if outcome == "unreachable" else outcome
        telemetry.handled(
            kind, counted, time.perf_counter() - started, replies, _text(incoming.body)
        )
        return outcome not in _PASSING

    return run


def _text(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("text"), str):
        return str(event["text"])
    text = body.get("text")
    return text if isinstance(text, str) else None


def team_of(context: BoltContext, body: dict[str, Any]) -> str:
    return str(context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or "")
