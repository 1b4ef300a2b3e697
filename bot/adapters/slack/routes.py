"""The HTTP application (ASGI): POST /slack/events to Bolt, GET /healthz and GET /metrics.

Served by uvicorn (httptools, uvloop). Bolt's dispatch only matches a listener, records the
delivery in the store's inbox and acks; every listener hands its work to an executor
(listeners.py). It runs on a few threads beside the event loop, never on it, because the
inbox write waits on the store: a paused Redis or a stalled disk must not hold every other
request. A dispatch that has not answered within ACK_DEADLINE_SECONDS gets a 503 at once,
which Slack retries, rather than a late 200 (if its write lands after all, the retry is
recognised as a repeat and acknowledged).

A request to /slack/events must first carry a fresh timestamp and a signature (401 before its
body is read), declare a body under MAX_BODY_BYTES (413), have a valid signature over the raw
bytes (401), and then pass the gate (400) before any of Bolt's code sees it (door.py). With a
metrics port, /metrics is served there only, and nothing else is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

from bot.adapters.slack import gate
from bot.adapters.slack.door import Signatures
from bot.adapters.slack.telemetry import PROMETHEUS_CONTENT_TYPE, Telemetry

log = logging.getLogger("bot.serve")

# Slack's payloads are a few kB; the largest, a message event of 40,000 characters, is under
# 200 kB even escaped. Anything larger is not Slack, and is refused before it is read.
MAX_BODY_BYTES = 256_000
# Slack gives up on an ack after 3 s and retries; refusing within a second leaves it margin.
ACK_DEADLINE_SECONDS = 1.0
DISPATCH_THREADS = 8  # requests whose store write is in flight at once; the rest wait their turn

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
        *,
        signatures: Signatures | None = None,
        metrics_port: int | None = None,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
    ) -> None:
        # Without an app (Socket Mode), only /healthz and /metrics are served: the events path
        # must never reach a Bolt app that does not verify signatures.
        self.bolt = bolt
        self.healthy = healthy
        self.telemetry = telemetry
        self.max_body = max_body
        self.signatures = signatures
        self.metrics_port = metrics_port
        self.ack_deadline = ack_deadline
        self._dispatcher = ThreadPoolExecutor(DISPATCH_THREADS, thread_name_prefix="dispatch")
        self._late_logged_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # a WebSocket upgrade (uvicorn refuses it with 403); no lifespan is run
        path, method = scope["path"], scope["method"]
        on_metrics_port = self.metrics_port is not None and _port(scope) == self.metrics_port
        if on_metrics_port or (self.metrics_port is None and path == "/metrics"):
            await self._metrics(path, send)
        elif path == "/healthz":
            ok = self.healthy()
            body = json.dumps({"ok": ok}).encode()
            await _respond(send, 200 if ok else 503, body, "application/json")
        elif self.bolt is not None and (path, method) == ("/slack/events", "POST"):
            await self._events(self.bolt, scope, receive, send)
        else:
            await _respond(send, 404, b"Not Found")

    async def _metrics(self, path: str, send: Send) -> None:
        """The metrics port serves /metrics and nothing else."""
        if path == "/metrics" and self.telemetry is not None:
            await _respond(send, 200, self.telemetry.exposition(), PROMETHEUS_CONTENT_TYPE)
        else:
            await _respond(send, 404, b"Not Found")

    async def _events(self, bolt: App, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        if self.signatures is not None and not self.signatures.plausible(headers):
            await self._refuse(send, 401, "unsigned", "no fresh timestamp and signature")
            return
        try:
            body = await self._body(headers, receive)
        except TooLarge:
            await self._refuse(send, 413, "too_large", f"a body over {self.max_body} bytes")
            return
        if self.signatures is not None and not self.signatures.valid(body, headers):
            await self._refuse(send, 401, "bad_signature", "the signature does not match")
            return
        try:
            payload = gate.read(body, headers.get("content-type", ""))
            text = body.decode("utf-8")
        except (gate.Refused, UnicodeDecodeError) as exc:
            why = str(exc) if isinstance(exc, gate.Refused) else "body is not UTF-8"
            log.warning("rejected a request that is not shaped like Slack's: %s", why)
            await self._refuse(send, 400, "malformed", why)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        as_bolt: dict[str, str | Sequence[str]] = dict(headers)
        request = _bolt_request(text, payload, query, as_bolt)
        loop = asyncio.get_running_loop()
        try:
            response = await asyncio.wait_for(
                loop.run_in_executor(self._dispatcher, bolt.dispatch, request), self.ack_deadline
            )
        except TimeoutError:
            await self._refuse(send, 503, "late", "it could not be recorded in time")
            return
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

    async def _refuse(self, send: Send, status: int, reason: str, why: str) -> None:
        """Counted, logged without the request's content (signature refusals at most once a
        minute: a flood of them must not become a flood of log lines), and answered."""
        if self.telemetry is not None:
            self.telemetry.refused.labels(reason).inc()
        if status == 401 and self.signatures is not None:
            self.signatures.refused(why)
        elif status == 413:
            log.warning("rejected %s", why)
        elif status == 503 and time.monotonic() - self._late_logged_at > 60:
            self._late_logged_at = time.monotonic()  # an outage logs a line a minute
            log.error("refused a request for Slack to retry: %s (the store is slow)", why)
        phrase = {
            400: b"Bad Request",
            401: b"Unauthorized",
            413: b"Request Entity Too Large",
            503: b"Service Unavailable",
        }
        await _respond(send, status, phrase[status])

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


def _port(scope: Scope) -> int | None:
    server = scope.get("server")
    return server[1] if server else None


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
