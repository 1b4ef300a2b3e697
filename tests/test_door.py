"""The front door over real sockets: uvicorn with the advisor's bounded protocol and routes,
short limits so a test waits under a second for what production waits seconds for."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from slack_bolt import App

from bot.adapters.slack.door import Limits, Signatures, bounded
from bot.adapters.slack.health import Health
from bot.adapters.slack.routes import Routes
from bot.adapters.slack.telemetry import Telemetry
from bot.loopback.requests import SECRET, sign
from tests.serve import free_port

LIMITS = Limits(header_seconds=0.5, body_seconds=0.5, header_bytes=4096, connections=30)
BODY = json.dumps({"type": "url_verification", "challenge": "c-123"}).encode()


class Door:
    def __init__(self) -> None:
        self.port = free_port()
        self.telemetry = Telemetry()
        app = App(signing_secret=SECRET, token="xoxb-1", token_verification_enabled=False)
        routes = Routes(app, lambda: True, self.telemetry, signatures=Signatures(SECRET))
        config = uvicorn.Config(
            routes, host="127.0.0.1", port=self.port, http=bounded(LIMITS), lifespan="off",
            log_config=None, log_level="warning", access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Door:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def refused(self, reason: str) -> float:
        return self.telemetry.refused.labels(reason)._value.get()  # type: ignore[attr-defined]


@pytest.fixture
def door() -> Iterator[Door]:
    with Door() as running:
        yield running


def _closed_within(conn: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it was still open after `seconds`."""
    conn.settimeout(seconds)
    got = b""
    try:
        while chunk := conn.recv(65536):
            got += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return got


def _read(conn: socket.socket, seconds: float) -> bytes:
    """Everything the server sent within `seconds` (it may keep the connection open)."""
    conn.settimeout(seconds)
    got = b""
    try:
        while chunk := conn.recv(65536):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return got


def _request(body: bytes, headers: dict[str, str], length: int | None = None) -> bytes:
    head = [
        "POST /slack/events HTTP/1.1",
        "Host: advisor",
        "Content-Type: application/json",
        "Connection: close",
        f"Content-Length: {len(body) if length is None else length}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_a_signed_request_is_served(door: Door) -> None:
    conn = door.connect()
    conn.sendall(_request(BODY, sign(BODY)))
    answer = _read(conn, 1.0)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b"c-123" in answer


def test_headers_sent_slowly_are_cut_off(door: Door) -> None:
    conn = door.connect()
    conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: advisor\r\n")
    started = time.monotonic()
    for _ in range(3):
        time.sleep(0.2)
        try:
            conn.sendall(b"X-Slow: 1\r\n")
        except OSError:
            break
    assert _closed_within(conn, 3.0) is not None
    assert time.monotonic() - started < 2.0


def test_a_stalled_body_is_cut_off_and_no_work_is_done(door: Door) -> None:
    conn = door.connect()
    conn.sendall(_request(BODY[:10], sign(BODY), length=len(BODY)))
    assert _closed_within(conn, 3.0) is not None
    assert door.refused("bad_signature") + door.refused("unsigned") <= 1


def test_an_oversized_header_is_refused_with_431(door: Door) -> None:
    conn = door.connect()
    conn.sendall(b"POST /slack/events HTTP/1.1\r\nX-Big: " + b"a" * 20_000)
    answer = _closed_within(conn, 3.0)
    assert answer is not None
    assert answer.startswith(b"HTTP/1.1 431")


def test_an_unsigned_body_is_refused_before_it_is_read(door: Door) -> None:
    conn = door.connect()
    conn.sendall(_request(b"", {}, length=1_000_000))  # announces 1 MB, sends none of it
    answer = _read(conn, 1.0)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer
    assert door.refused("unsigned") == 1


def test_bad_signatures_are_counted_and_logged_once_without_their_content(
    door: Door, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = b'{"type": "event_callback", "event": {"text": "my password is hunter2"}}'
    caplog.set_level(logging.INFO)
    for _ in range(25):
        conn = door.connect()
        conn.sendall(_request(secret_text, sign(secret_text, secret="not-the-secret")))
        answer = _read(conn, 1.0)
        conn.close()
        assert answer.startswith(b"HTTP/1.1 401"), answer
    assert door.refused("bad_signature") == 25
    lines = [r.getMessage() for r in caplog.records]
    assert sum("without a valid Slack signature" in line for line in lines) == 1
    assert not any("hunter2" in line for line in lines)


def test_connections_past_the_cap_are_closed_at_once(door: Door) -> None:
    idle = [door.connect() for _ in range(LIMITS.connections)]
    time.sleep(0.1)
    extra = door.connect()
    assert _closed_within(extra, 0.3) is not None  # closed, not left waiting
    for conn in idle:
        conn.close()
    time.sleep(0.7)  # the idle ones are gone: the door takes new connections again
    conn = door.connect()
    conn.sendall(_request(BODY, sign(BODY)))
    answer = _read(conn, 1.0)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer


def test_health_answers_from_its_last_observation_and_a_hung_probe_shows() -> None:
    hang = threading.Event()

    def probe() -> bool:
        if hang.is_set():
            time.sleep(30)
        return True

    health = Health(probe, interval=0.05, stale=0.4).start()
    try:
        assert health.ok()
        hang.set()
        started = time.monotonic()
        assert health.ok()  # answered at once, from the last observation
        assert time.monotonic() - started < 0.05
        time.sleep(0.8)
        assert not health.ok()  # the probe never came back: unhealthy
    finally:
        health.stop()


def test_a_large_body_sent_with_its_headers_is_not_taken_for_a_large_header(door: Door) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-9", "pad": "x" * 60_000})
    raw = body.encode()
    conn = door.connect()
    conn.sendall(_request(raw, sign(raw)))  # head and body in one write
    answer = _read(conn, 2.0)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
