"""Test-side helpers around bot.loopback.requests: Slack's example payloads from tests/data."""

from __future__ import annotations

import json
from typing import Any

from bot.loopback.requests import SECRET, SlackSender, get, sign, unique
from tests.conftest import ROOT

# Copied from shared/slack/ (Slack docs and SDK test suites; see tests/data/slack/README.md).
PAYLOADS = ROOT / "tests" / "data" / "slack" / "payloads"

Slack = SlackSender

__all__ = ["PAYLOADS", "SECRET", "Slack", "dm_event", "get", "payload", "sign", "unique"]


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
