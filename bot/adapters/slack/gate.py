"""Turn away bodies that are not shaped like anything Slack sends, before Bolt reads them.

Bolt's own middleware assumes Slack's shapes (an `event` that is an object, `actions` that
are a list of objects) and answers 500 when they are not. A malformed request is the
sender's fault: it gets a 400, and no work is done.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

_OBJECTS = ("event", "user", "team", "container", "channel", "message", "view", "enterprise")


def problem(body: bytes, content_type: str) -> str | None:
    """Why `body` cannot be a Slack request, or None when it might be one."""
    if "json" in content_type:
        return _payload_problem(body)
    if "x-www-form-urlencoded" in content_type:
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return "form body is not UTF-8"
        if "payload" in form:
            return _payload_problem(form["payload"][0].encode())
        return None
    return f"unexpected content type {content_type or 'none'}"


def _payload_problem(raw: bytes) -> str | None:
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "body is not JSON"
    if not isinstance(payload, dict):
        return "body is not a JSON object"
    for name in _OBJECTS:
        if name in payload and payload[name] is not None and not isinstance(payload[name], dict):
            return f"`{name}` is not an object"
    actions = payload.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    ):
        return "`actions` is not a list of objects"
    if "authorizations" in payload and not isinstance(payload["authorizations"], list):
        return "`authorizations` is not a list"
    return None
