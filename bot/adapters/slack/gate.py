"""Turn away bodies that are not shaped like anything Slack sends, before Bolt reads them.

Bolt's own middleware assumes Slack's shapes (an `event` that is an object, `actions` that
are a list of objects) and answers 500 when they are not. A malformed request is the
sender's fault: it gets a 400, and no work is done.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast
from urllib.parse import parse_qsl

# Wherever these keys appear, Slack sends an object (or null). Bolt's own extractors walk
# event, message, previous_message, item, assistant_thread and authorizations for ids.
_OBJECTS = frozenset(
    {"event", "container", "message", "previous_message", "item", "assistant_thread", "view"}
)
# Wherever these appear, Slack sends an id (text) or an object with one (or null).
_IDS = frozenset({"user", "channel", "team", "enterprise"})
_DEPTH = 12  # deeper than any Slack payload; a deeper body is turned away
# Ids are short: "U012AB3CD", "T0001". One of 5,000 characters would not fit in a button.
_ID = re.compile(r"[A-Za-z0-9_\-]{0,64}")
_ID_FIELDS = frozenset({"team_id", "user_id", "channel_id", "enterprise_id", "api_app_id"})


class Refused(ValueError):
    """The body cannot be a Slack request; the message says why."""


def read(body: bytes, content_type: str) -> dict[str, Any]:
    """The request's payload, parsed as Slack means it: a JSON body, the JSON in a form's
    `payload` field (interactions), or the form itself (slash commands). Refused when the
    body cannot be a Slack request."""
    if "json" in content_type:
        return _checked(_json(body))
    if "x-www-form-urlencoded" in content_type:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise Refused("form body is not UTF-8") from None
        if "payload" in form:
            return _checked(_json(form["payload"].encode()))
        for name in _ID_FIELDS & form.keys():  # a slash command
            if not _ID.fullmatch(form[name]):
                raise Refused(f"`{name}` is not an id")
        return form
    raise Refused(f"unexpected content type {content_type or 'none'}")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refused("body is not JSON") from None


def _checked(payload: Any) -> dict[str, Any]:
    why = payload_problem(payload)
    if why is not None:
        raise Refused(why)
    return cast(dict[str, Any], payload)  # payload_problem: an object


def payload_problem(payload: Any) -> str | None:
    """Why a parsed payload (an HTTP body, a Socket Mode envelope's) cannot be Slack's."""
    if not isinstance(payload, dict):
        return "body is not a JSON object"
    actions = payload.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    ):
        return "`actions` is not a list of objects"
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "`authorizations` is not a list of objects"
    return _shape_problem(payload, 0)


def _shape_problem(value: Any, depth: int) -> str | None:
    """The first place, anywhere in the payload, where an object or an id has the wrong type."""
    if depth > _DEPTH:
        return "the body is nested deeper than any Slack payload"
    if isinstance(value, list):
        for item in value:
            if (found := _shape_problem(item, depth + 1)) is not None:
                return found
        return None
    if not isinstance(value, dict):
        return None
    for name, item in value.items():
        if item is None:
            continue
        if name in _OBJECTS and not isinstance(item, dict):
            return f"`{name}` is not an object"
        if name in _IDS and not isinstance(item, str | dict):
            return f"`{name}` is neither an id nor an object"
        if name in _IDS and isinstance(item, dict):
            item_id = item.get("id")
            if item_id is not None and not (isinstance(item_id, str) and _ID.fullmatch(item_id)):
                return f"`{name}.id` is not an id"
        if (
            (name in _IDS or name in _ID_FIELDS)
            and isinstance(item, str)
            and not _ID.fullmatch(item)
        ):
            return f"`{name}` is not an id"
        if isinstance(item, dict | list) and (found := _shape_problem(item, depth + 1)):
            return found
    return None
