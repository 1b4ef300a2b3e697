"""The front door of `advisor serve --http`: what a connection may cost before it has proved
it is Slack.

uvicorn has a keep-alive timeout and a cap on concurrent requests, but no deadline for a
request's headers or body and no cap on header size (httptools reads whatever arrives), so a
client that sends one header line every few seconds, or a body that never ends, holds a
connection and its memory for ever. `BoundedProtocol` adds those limits to uvicorn's own
httptools protocol; a proxy in front (deploy/) enforces the same ones again, earlier.

`Signatures` checks Slack's signature on the raw bytes before anything parses them: a request
without a fresh timestamp and a signature is refused before its body is read, and a bad
signature costs one HMAC. Refusals are counted, and logged at most once a minute with how
many there were, never with their content.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("bot.serve")

_WINDOW = 300  # seconds: Slack's replay window for a request's timestamp
_LOG_EVERY = 60.0  # seconds between two log lines about refused requests


@dataclass(frozen=True)
class Limits:
    """What one connection may take. Slack sends a request's headers at once and bodies of a
    few kilobytes; these leave a slow mobile network ample room and an attacker very little."""

    header_seconds: float = 5.0  # from the first byte of a request to its last header
    body_seconds: float = 10.0  # from the last header to the last byte of the body
    header_bytes: int = 16_384  # Slack's headers are under 2 kB
    connections: int = 1_000  # per worker; beyond, a new connection is closed at once


class BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for headers and for the body, a cap on
    header bytes (431) and a cap on open connections (closed before any byte is read)."""

    limits = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_head = False
        self._head_bytes = 0
        self._tail = b""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.connections:
            transport.abort()  # refused cheaply: no parser, no timer, no response
            return
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        if self.transport is not None:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self._idle():
            self._await_head()  # a keep-alive connection's next request begins
        if self._reading_head:
            self._head_bytes += self._head_part(data)
            if self._head_bytes > self.limits.header_bytes:
                self._refuse_head()
                return
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the request's head: up to the blank line that
        ends it (which may straddle two reads), the rest being body."""
        window = self._tail + data
        end = window.find(b"\r\n\r\n")
        self._tail = window[-3:]
        return len(data) if end < 0 else max(0, end + 4 - (len(window) - len(data)))

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._set(self.limits.body_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel()
        super().on_message_complete()

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _await_head(self) -> None:
        self._reading_head, self._head_bytes, self._tail = True, 0, b""
        self._set(self.limits.header_seconds)

    def _set(self, seconds: float) -> None:
        self._cancel()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        """Too slow: the connection goes, and with it whatever it sent (a request whose body
        stalled sees a disconnect, and is refused unsigned)."""
        self._deadline = None
        self.transport.abort()

    def _refuse_head(self) -> None:
        self._cancel()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n"
        )
        self.transport.close()


def bounded(limits: Limits) -> type[BoundedProtocol]:
    """The protocol class uvicorn builds per connection, with these limits."""
    return type("BoundedProtocol", (BoundedProtocol,), {"limits": limits})


class Signatures:
    """Slack's request signature, checked on the raw bytes, and a count of refusals."""

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._lock = threading.Lock()
        self._refused = 0
        self._logged_at = float("-inf")

    def plausible(self, headers: Mapping[str, str]) -> bool:
        """A timestamp in Slack's window and a signature: checked before the body is read."""
        stamp = headers.get("x-slack-request-timestamp", "")
        if not stamp.isdigit() or not headers.get("x-slack-signature", "").startswith("v0="):
            return False
        return abs(time.time() - int(stamp)) <= _WINDOW

    def valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """The signature matches the body (slack_sdk's check, constant-time). A body that is
        not UTF-8 is no Slack request, and slack_sdk would fail to decode it."""
        if not self.plausible(headers):
            return False
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        stamp, signature = headers["x-slack-request-timestamp"], headers["x-slack-signature"]
        return self._verifier.is_valid(text, stamp, signature)

    def refused(self, why: str) -> None:
        """One more refusal; a log line at most once a minute, with the count since the last."""
        with self._lock:
            self._refused += 1
            now = time.monotonic()
            if now - self._logged_at < _LOG_EVERY:
                return
            count, self._refused, self._logged_at = self._refused, 0, now
        log.warning("refused %d request(s) without a valid Slack signature (last: %s)", count, why)
