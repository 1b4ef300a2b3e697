"""A WebClient that keeps its connections to Slack open.

slack_sdk's WebClient sends each call with urllib, which opens a new connection every time: on
slack.com that is a TCP and a TLS handshake for every message the advisor posts. This client
keeps one HTTP/1.1 connection per thread and host and replaces only the one method of
slack_sdk that moves bytes; building requests, retries (slack_sdk.http_retry), errors and
parsing stay slack_sdk's. Failures surface exactly as urllib's would (URLError while sending,
HTTPError for an error status, the socket's own error while reading), so the retry handlers
decide as before.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import SplitResult, urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# A connection idle this long is replaced rather than reused: servers and load balancers close
# idle connections (Slack's after about a minute), and a request sent on one being closed can
# fail in a way that cannot tell whether Slack received it.
IDLE_SECONDS = 20.0


class _Kept:
    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.used_at = time.monotonic()


class KeepAliveWebClient(WebClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith(("http://", "https://")):
            return super()._perform_urllib_http_request_internal(url, req)
        parts = urlsplit(url)
        connection = self._connection(parts)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                req.get_method(), target, body=req.data, headers=dict(req.header_items())
            )
        except OSError as exc:
            self._forget(parts)
            raise URLError(exc) from exc
        try:
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            self._forget(parts)
            raise
        if response.will_close:
            self._forget(parts)
        else:
            self._kept()[parts.netloc].used_at = time.monotonic()
        if response.status >= 400:
            raise HTTPError(
                url, response.status, response.reason, response.headers, io.BytesIO(body)
            )
        # A plain dict, read once: slack_sdk copies the headers into dicts twice per call (its
        # retry check and its SlackResponse), and each pass over http.client's email.Message
        # re-parses every header (a fifth of a post's CPU before this).
        headers = dict(response.getheaders())
        media, _, params = _content_type(headers).partition(";")
        if media.strip().lower() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": body}
        return {
            "status": response.status,
            "headers": headers,
            "body": body.decode(_charset(params)),
        }

    def _kept(self) -> dict[str, _Kept]:
        kept: dict[str, _Kept] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        return kept

    def _connection(self, parts: SplitResult) -> http.client.HTTPConnection:
        kept = self._kept()
        found = kept.get(parts.netloc)
        if found is not None and time.monotonic() - found.used_at < IDLE_SECONDS:
            if found.connection.sock is not None:
                found.connection.sock.settimeout(self.timeout)
            return found.connection
        if found is not None:
            found.connection.close()
        connection: http.client.HTTPConnection
        if parts.scheme.lower() == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=self.ssl
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        kept[parts.netloc] = _Kept(connection)
        return connection

    def _forget(self, parts: SplitResult) -> None:
        found = self._kept().pop(parts.netloc, None)
        if found is not None:
            found.connection.close()


def _content_type(headers: dict[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _charset(params: str) -> str:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"
