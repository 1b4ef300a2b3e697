"""A loopback HTTP server that plays the Slack Web API: the only stand-in the tests use, and
what `advisor bench` measures against.

It speaks Slack's wire format (form or JSON bodies in, `{"ok": ...}` JSON out, 429 with
Retry-After), records every call, and can be told to fail the next calls of a method.
Response URLs (`/response/<id>`) are served too, as Slack's `respond` endpoint would.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = "UADVISOR"
BOT_ID = "BADVISOR"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    path: str = ""
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    peer: int = 0  # the client's port: calls on one kept-alive connection share it


@dataclass
class Failure:
    """The next answer to a method: an error status, or (with `delay`) a hang first."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeSlackAPI:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self.websocket_url = "ws://127.0.0.1:1/link"
        self.latency = 0.0  # seconds before every answer, as slack.com takes from a cloud region
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._dm = itertools.count(1)
        api = self

        class Handler(BaseHTTPRequestHandler):
            # Like slack.com: connections stay open for the next call unless the client
            # says otherwise (urllib always does; the advisor's client does not).
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; on a kept connection Nagle's algorithm
            # would hold the body until the client's delayed ACK (40 ms). Servers set this.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                self.path = path
                api._handle(self, query, form=True)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                api._handle(self, raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def start(self) -> FakeSlackAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, method: str, *failures: Failure) -> None:
        with self._lock:
            self.failures[method].extend(failures)

    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def calls_since(self, start: int) -> list[Call]:
        """The calls recorded after the first `start` ones, in order."""
        with self._lock:
            return self.calls[start:]

    def calls_to(self, method: str, **where: Any) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.method == method
            and c.status == 200
            and all(c.params.get(k) == v for k, v in where.items())
        ]

    def attempts(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 10.0, **where: Any
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method, **where)
            if len(found) >= count:
                return found
            with self._arrived:
                self._arrived.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        raise AssertionError(
            f"expected {count} {method} call(s) with {where}; got {self.calls_to(method, **where)}"
        )

    def responses(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """What the app sent to the response URL made by `response_url(name)`."""
        path = f"/response/{name}"
        self.wait_until(lambda: len(self._at(path)) >= count, timeout)
        return self._at(path)

    def _at(self, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path == path and c.status == 200]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            with self._arrived:
                self._arrived.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        raise AssertionError("condition not met in time")

    # -- the wire -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, raw: str, form: bool = False) -> None:
        path = request.path
        method = path.removeprefix("/api/") if path.startswith("/api/") else "response_url"
        content_type = "" if form else request.headers.get("Content-Type", "")
        params = _parse(raw, content_type)
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            queued = self.failures[method]
            failure = queued.popleft() if queued else None
            status = failure.status if failure else 200
            call = Call(
                method, params, headers, path, status=status, peer=request.client_address[1]
            )
            self.calls.append(call)
            self._arrived.notify_all()
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)  # the client has long given up: a timeout
            self._send(request, failure.status, failure.body, failure.headers)
            return
        self._send(request, 200, self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "advisor",
                "team_id": "T1",
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "conversations.open":
            user = str(params.get("users", "U0"))
            return {"ok": True, "channel": {"id": f"D{user}"}}
        if method in {"chat.postMessage", "chat.update"}:
            ts = f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text", ""), "ts": ts, "bot_id": BOT_ID},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **_json(params.get("view"))}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.websocket_url}
        if method in {"conversations.replies", "conversations.history"}:
            return {"ok": True, "messages": self._messages(method, params), "has_more": False}
        return {"ok": True}

    def _messages(self, method: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """What Slack would return: the posts of a thread, or of a channel's top level."""
        posts = self.calls_to("chat.postMessage", channel=params.get("channel"))
        thread = params.get("ts")
        wanted = [
            p
            for p in posts
            if (p.params.get("thread_ts") == thread if thread else not p.params.get("thread_ts"))
        ]
        with_metadata = str(params.get("include_all_metadata")).lower() in {"1", "true"}
        return [
            {
                "type": "message",
                "text": p.params.get("text", ""),
                **({"metadata": _json(p.params.get("metadata"))} if with_metadata else {}),
            }
            for p in wanted
        ]

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return value if isinstance(value, dict) else {}


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            parsed = json.loads(raw or "{}")
        except ValueError:
            return {"_raw": raw}
        return parsed if isinstance(parsed, dict) else {"_raw": parsed}
    params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for name in ("blocks", "metadata", "view", "attachments"):
        if isinstance(params.get(name), str):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(params[name])
    return params
