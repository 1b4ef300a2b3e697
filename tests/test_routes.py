"""The ASGI application, driven with the messages an ASGI server sends it (uvicorn's own
contract), for what is awkward to make a real client do: a body that streams in chunks past the
limit without announcing its size. The rest is covered over real HTTP in test_slack_http.py."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt import App

from bot.adapters.slack.routes import Routes


def _app() -> App:
    return App(signing_secret="secret", token="xoxb-1", token_verification_enabled=False)


def _call(routes: Routes, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, bytes, int]:
    """(status, body, chunks the app read)."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        more = read < len(chunks)
        return {"type": "http.request", "body": chunks[read - 1], "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(routes(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], read


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": b"", "headers": headers}


def test_a_chunked_body_past_the_limit_is_refused_without_reading_the_rest() -> None:
    routes = Routes(_app(), lambda: True, max_body=100_000)
    chunks = [b"x" * 10_000] * 500  # 5 MB, never announced
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    status, _, read = _call(routes, _scope("POST", "/slack/events", headers), chunks)
    assert status == 413
    assert read == 11  # stopped at the first chunk over the limit


def test_an_announced_size_past_the_limit_is_refused_before_reading() -> None:
    routes = Routes(_app(), lambda: True, max_body=100_000)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"100001")]
    status, _, read = _call(routes, _scope("POST", "/slack/events", headers), [b"{}"])
    assert (status, read) == (413, 0)


def test_what_is_not_slack_is_turned_away_before_bolt() -> None:
    routes = Routes(_app(), lambda: True)
    json_type = [(b"content-type", b"application/json")]
    assert _call(routes, _scope("POST", "/slack/events", json_type), [b"\xff\xfe{"])[0] == 400
    unsigned = b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}'
    assert _call(routes, _scope("POST", "/slack/events", json_type), [unsigned])[0] == 401
    assert _call(routes, _scope("GET", "/slack/events", []), [b""])[0] == 404
    socket_mode = Routes(None, lambda: False)  # no app: only health
    assert _call(socket_mode, _scope("POST", "/slack/events", json_type), [unsigned])[0] == 404
    assert _call(socket_mode, _scope("GET", "/healthz", []), [b""])[:2] == (503, b'{"ok": false}')
