"""`advisor serve`: the Bolt app over HTTP (waitress, a production WSGI server) or Socket Mode.

HTTP serves POST /slack/events (Bolt verifies the signature and the 5-minute window before any
work), GET /healthz (200 when the store answers and the knowledge is loaded, else 503) and
GET /metrics (Prometheus).
SIGTERM stops taking requests, lets in-flight work finish, and closes the store.
"""

from __future__ import annotations

import io
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.adapters.slack import gate
from bot.adapters.slack.app import build_app, web_client
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import PROMETHEUS_CONTENT_TYPE, Telemetry
from bot.core.advisor import Advisor
from bot.errors import AdvisorError
from bot.settings import Settings

log = logging.getLogger("bot.serve")

MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; anything far larger is not Slack

StartResponse = Callable[..., Any]


class ConfigurationError(AdvisorError):
    """Required settings are missing; the message names every one."""


REQUIRED = {
    "SLACK_BOT_TOKEN": "the bot token (xoxb-...)",
    "SLACK_SIGNING_SECRET": "the signing secret (Basic Information > App Credentials)",
    "SLACK_APP_TOKEN": "an app-level token with connections:write (xapp-...)",
}


def choose_mode(settings: Settings, socket: bool, http: bool) -> str:
    if socket:
        return "socket"
    if http:
        return "http"
    return "socket" if settings.slack_app_token else "http"


def check_settings(settings: Settings, mode: str) -> None:
    needed = ["SLACK_BOT_TOKEN"]
    needed.append("SLACK_APP_TOKEN" if mode == "socket" else "SLACK_SIGNING_SECRET")
    values = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "SLACK_APP_TOKEN": settings.slack_app_token,
    }
    missing = [name for name in needed if not values[name]]
    if missing:
        lines = "\n".join(f"  {name}: {REQUIRED[name]}" for name in missing)
        raise ConfigurationError(
            f"`advisor serve` in {mode} mode needs these environment variables:\n{lines}"
        )


class Routes:
    """The WSGI application: /slack/events to Bolt, /healthz to the health check."""

    def __init__(
        self, bolt: App | None, healthy: Callable[[], bool], telemetry: Telemetry | None = None
    ) -> None:
        self.telemetry = telemetry
        # Without an app (Socket Mode), only /healthz is served: the events path must never
        # reach a Bolt app that does not verify signatures.
        self.events = SlackRequestHandler(bolt, path="/slack/events") if bolt else None
        self.healthy = healthy

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics" and self.telemetry is not None:
            body = self.telemetry.exposition()
            start_response(
                "200 OK",
                [("Content-Type", PROMETHEUS_CONTENT_TYPE), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == "/healthz":
            ok = self.healthy()
            body = json.dumps({"ok": ok}).encode()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if (
            self.events is not None
            and path == "/slack/events"
            and environ.get("REQUEST_METHOD") == "POST"
        ):
            return self._events(environ, start_response)
        return _plain(start_response, "404 Not Found", b"Not Found")

    def _events(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert self.events is not None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        why = gate.problem(body, environ.get("CONTENT_TYPE", ""))
        if why is not None:
            log.warning("rejected a request that is not shaped like Slack's: %s", why)
            return _plain(start_response, "400 Bad Request", b"Bad Request")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.events(environ, start_response)


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@dataclass
class Runtime:
    app: App
    advisor: Advisor
    executor: ThreadPoolExecutor
    telemetry: Telemetry

    def healthy(self) -> bool:
        return bool(self.advisor.kb.facts) and self.advisor.store.ping()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
        if self.advisor.recorder is not None:
            self.advisor.recorder.close()  # the last buffered events, then the store
        self.advisor.store.close()


def build_runtime(settings: Settings, advisor: Advisor, mode: str) -> Runtime:
    client = web_client(
        settings.slack_bot_token, settings.slack_api_url, timeout=settings.slack_timeout
    )
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="advisor")
    telemetry = Telemetry(log_text=settings.log_text)
    app = build_app(
        service=SlackService(advisor, settings.rate_limit, settings.admin_ids()),
        client=client,
        signing_secret=settings.slack_signing_secret,
        executor=executor,
        telemetry=telemetry,
        verify_requests=mode == "http",
    )
    return Runtime(app, advisor, executor, telemetry)


def _stop_on_sigterm(stop: Callable[[], None]) -> None:
    def handler(signum: int, frame: object) -> None:
        log.info("SIGTERM: shutting down")
        stop()

    signal.signal(signal.SIGTERM, handler)


def serve_http(runtime: Runtime, host: str, port: int) -> None:
    import waitress

    server = waitress.create_server(
        Routes(runtime.app, runtime.healthy, runtime.telemetry),
        host=host,
        port=port,
        threads=4,
        max_request_body_size=MAX_BODY_BYTES,
        ident="advisor",
        clear_untrusted_proxy_headers=True,
    )

    def stop() -> None:
        raise SystemExit(0)

    _stop_on_sigterm(stop)
    log.info("serving HTTP on %s:%s (/slack/events, /healthz)", host, port)
    print(f"advisor: listening on http://{host}:{port}/slack/events", flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        runtime.shutdown()


class GatedSocketModeHandler(SocketModeHandler):
    """Socket Mode behind the same gate as HTTP: an envelope whose payload is not shaped like
    Slack's is acknowledged (so it is not redelivered) and dropped with one log line, before
    Bolt's own code, which assumes Slack's shapes, can fail on it."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]  # as Bolt's own
        why = gate.payload_problem(req.payload)
        if why is None:
            super().handle(client, req)
            return
        log.warning("rejected a Socket Mode envelope not shaped like Slack's: %s", why)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


def serve_socket(runtime: Runtime, app_token: str, host: str, port: int) -> None:
    """Socket Mode; /healthz still answers on `port` so orchestrators can probe the replica."""
    import waitress

    health = waitress.create_server(
        Routes(None, runtime.healthy, runtime.telemetry),
        host=host,
        port=port,
        threads=2,
        ident="advisor",
    )
    threading.Thread(target=health.run, name="healthz", daemon=True).start()
    handler = GatedSocketModeHandler(runtime.app, app_token, web_client=runtime.app.client)
    stopped = threading.Event()
    _stop_on_sigterm(stopped.set)
    handler.connect()  # type: ignore[no-untyped-call]
    print(f"advisor: connected in Socket Mode; health on http://{host}:{port}/healthz", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        health.close()
        runtime.shutdown()
