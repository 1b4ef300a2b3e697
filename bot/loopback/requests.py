"""Signed requests as Slack sends them (docs.slack.dev, "Verifying requests from Slack"):
HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret, to a running app."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

SECRET = "test-signing-secret"
_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids):05d}"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str, team: str = "T1") -> bytes:
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": "UADVISOR",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    ).encode()


def command_body(
    text: str,
    *,
    user: str,
    response_url: str,
    channel: str = "C1",
    team: str = "T1",
    command: str = "/advisor",
) -> bytes:
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "someone",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": unique("13345224609.738474920.") + "8ee",
        }
    ).encode()


def block_actions_body(
    action: dict[str, Any],
    *,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None = None,
    response_url: str = "",
    team: str = "T1",
    ephemeral: bool = False,
) -> bytes:
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": ephemeral,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    body = {
        "type": "block_actions",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A1",
        "token": "verification-token",
        "container": container,
        "trigger_id": unique("12466734323.1395872398."),
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": message_ts, "text": "", "bot_id": "BADVISOR"},
        "response_url": response_url,
        "actions": [
            {
                **action,
                "type": "button",
                "block_id": "b1",
                "action_ts": f"{time.time():.6f}{next(_ids)}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(body)}).encode()


class SlackSender:
    """Sends signed requests to a running app's /slack/events."""

    def __init__(self, base: str, secret: str = SECRET, path: str = "/slack/events") -> None:
        self.url = f"{base}{path}"
        self.secret = secret

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds until the response arrived)."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if signed:
            all_headers.update(sign(body, secret or self.secret, timestamp))
        request = urllib.request.Request(self.url, data=body, headers=all_headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), time.perf_counter() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read(), time.perf_counter() - started

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
        team: str = "T1",
    ) -> tuple[int, bytes, float]:
        body = event_body(event, event_id or unique("Ev"), team)
        return self.post(body, "application/json", headers=headers)

    def command(
        self,
        text: str,
        *,
        user: str,
        response_url: str,
        channel: str = "C1",
        team: str = "T1",
        command: str = "/advisor",
    ) -> tuple[int, bytes, float]:
        body = command_body(
            text, user=user, response_url=response_url, channel=channel, team=team, command=command
        )
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, action: dict[str, Any], **where: Any) -> tuple[int, bytes, float]:
        return self.post(block_actions_body(action, **where), "application/x-www-form-urlencoded")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
