"""Test-side helpers around bot.loopback.requests: Slack's example payloads from tests/data."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.loopback.requests import SECRET, SlackSender, get, sign, unique
from tests.conftest import ROOT

# Copied from shared/slack/ (Slack docs and SDK test suites; see tests/data/slack/README.md).
PAYLOADS = ROOT / "tests" / "data" / "slack" / "payloads"

Slack = SlackSender

__all__ = [
    "PAYLOADS",
    "SECRET",
    "Slack",
    "dm_event",
    "get",
    "in_one_rate_window",
    "payload",
    "sign",
    "unique",
]


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def dm_event(
    user: str, text: str, ts: str, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A `message.im` event: `user` writing to the advisor in their DM (channel D<user>)."""
    event = {
        "type": "message",
        "channel": f"D{user}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def in_one_rate_window(seconds_needed: float = 15.0) -> None:
    """Wait, if need be, so the next `seconds_needed` fall in one minute of the rate limit's
    fixed windows: a burst that straddles two windows would be counted in halves."""
    into = time.time() % 60
    if into > 60 - seconds_needed:
        time.sleep(60 - into + 0.05)
