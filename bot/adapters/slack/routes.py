"""The HTTP application (ASGI): POST /slack/events to Bolt, GET /healthz and GET /metrics.

Served by uvicorn (httptools, uvloop). Bolt's dispatch runs on the event loop itself, as Bolt's
own ASGI adapter runs it: it only verifies the request, matches a listener and acks, because
every listener here hands its work to an executor (listeners.py). That keeps one thread per
request instead of waitress's two (a parser thread, then a worker), which measured 1.46 ms of
CPU per reply against waitress's 2.0 ms (README, "Performance").

The body is read up to MAX_BODY_BYTES (413 beyond), then must pass the gate (400 otherwise)
before any of Bolt's code sees it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

from bot.adapters.slack import gate
from bot.adapters.slack.telemetry import PROMETHEUS_CONTENT_TYPE, Telemetry

log = logging.getLogger("bot.serve")

MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; anything far larger is not Slack

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class TooLarge(Exception):
    """The body is over MAX_BODY_BYTES."""


class Routes:
    def __init__(
        self,
        bolt: App | None,
        healthy: Callable[[], bool],
        telemetry: Telemetry | None = None,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        # Without an app (Socket Mode), only /healthz and /metrics are served: the events path
        # must never reach a Bolt app that does not verify signatures.
        self.bolt = bolt
        self.healthy = healthy
        self.telemetry = telemetry
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # a WebSocket upgrade (uvicorn refuses it with 403); no lifespan is run
        path, method = scope["path"], scope["method"]
        if path == "/metrics" and self.telemetry is not None:
            await _respond(send, 200, self.telemetry.exposition(), PROMETHEUS_CONTENT_TYPE)
        elif path == "/healthz":
            ok = self.healthy()
            body = json.dumps({"ok": ok}).encode()
            await _respond(send, 200 if ok else 503, body, "application/json")
        elif self.bolt is not None and path == "/slack/events" and method == "POST":
            await self._events(self.bolt, scope, receive, send)
        else:
            await _respond(send, 404, b"Not Found")

    async def _events(self, bolt: App, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        try:
            body = await self._body(headers, receive)
        except TooLarge:
            log.warning("rejected a request body over %d bytes", self.max_body)
            await _respond(send, 413, b"Request Entity Too Large")
            return
        try:
            payload = gate.read(body, headers.get("content-type", ""))
            text = body.decode("utf-8")
        except (gate.Refused, UnicodeDecodeError) as exc:
            why = str(exc) if isinstance(exc, gate.Refused) else "body is not UTF-8"
            log.warning("rejected a request that is not shaped like Slack's: %s", why)
            await _respond(send, 400, b"Bad Request")
            return
        query = scope.get("query_string", b"").decode("latin-1")
        as_bolt: dict[str, str | Sequence[str]] = dict(headers)
        response = bolt.dispatch(_bolt_request(text, payload, query, as_bolt))
        content = response.body.encode("utf-8")
        head = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, values in response.headers.items()
            if name.lower() != "content-length"
            for value in values
        ]
        head.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": head})
        await send({"type": "http.response.body", "body": content})

    async def _body(self, headers: dict[str, str], receive: Receive) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise TooLarge  # answered before the body is read, as Slack never sends one
        chunks = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunks += message.get("body", b"")
            if len(chunks) > self.max_body:
                raise TooLarge
            if not message.get("more_body", False):
                break
        return bytes(chunks)


def _bolt_request(
    text: str, payload: dict[str, Any], query: str, headers: dict[str, str | Sequence[str]]
) -> BoltRequest:
    """Bolt's request, signed over the raw text, carrying the payload as the gate read it.

    Bolt takes any form body that contains the word "payload" anywhere for an interaction's
    `payload=` field: `/advisor how do I validate a request payload` reached the listeners as
    an empty body and was answered 404 (slack_bolt 1.30, request/internals.py parse_body).
    """
    request = BoltRequest(body=text, query=query, headers=headers)
    if request.body != payload:
        request.body = payload
        request.context = build_context(BoltContext(), payload)
    return request


def _headers(scope: Scope) -> dict[str, str]:
    """Lower-case names (as Bolt reads them); a repeated header keeps its last value."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }


async def _respond(
    send: Send, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"
) -> None:
    head = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
