"""`advisor serve`: the Bolt app over HTTP (uvicorn, one or more worker processes) or Socket Mode.

HTTP serves POST /slack/events (Bolt verifies the signature and the 5-minute window before any
work), GET /healthz (200 when the store answers and the knowledge is loaded, else 503) and
GET /metrics (Prometheus); see routes.py, and workers.py for several processes.
SIGTERM stops taking requests, lets in-flight work finish, and closes the store.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.adapters.slack import gate
from bot.adapters.slack.app import build_app, web_client
from bot.adapters.slack.executor import BoundedExecutor
from bot.adapters.slack.routes import Routes
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import Telemetry
from bot.adapters.slack.workers import Supervisor, shared_metrics
from bot.core.advisor import Advisor
from bot.errors import AdvisorError
from bot.settings import Settings

log = logging.getLogger("bot.serve")


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


@dataclass
class Runtime:
    app: App
    advisor: Advisor
    executor: BoundedExecutor
    telemetry: Telemetry

    def healthy(self) -> bool:
        return bool(self.advisor.kb.facts) and self.advisor.store.ping()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
        if self.advisor.recorder is not None:
            self.advisor.recorder.close()  # the last buffered events, then the store
        self.advisor.store.close()


def build_runtime(settings: Settings, advisor: Advisor, mode: str, threads: int = 8) -> Runtime:
    """`threads` run the listeners' work: posting waits on Slack, so a few per core."""
    client = web_client(
        settings.slack_bot_token, settings.slack_api_url, timeout=settings.slack_timeout
    )
    executor = BoundedExecutor(max_workers=threads, thread_name_prefix="advisor")
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


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before any worker starts so that all of them share it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def serve_http(build: Callable[[], Runtime], host: str, port: int, workers: int = 1) -> int:
    """Serve until SIGTERM; the exit code. `build` makes a worker's runtime: with several
    workers it runs in each one after the fork (workers.py)."""
    sock = listen(host, port)
    runtime = build() if workers <= 1 else None  # a bad store or token fails before "listening"
    log.info("serving HTTP on %s:%s (/slack/events, /healthz), %d worker(s)", host, port, workers)
    print(f"advisor: listening on http://{host}:{port}/slack/events", flush=True)
    if runtime is not None:
        _run_http_worker(runtime, sock)
        return 0
    with shared_metrics():
        return Supervisor(workers, lambda: _run_http_worker(build(), sock)).run()


def _uvicorn(routes: Routes, **options: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        routes,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_config=None,  # ours (telemetry.configure_logging): JSON lines
        log_level="warning",
        access_log=False,  # telemetry logs each handled request once, with its outcome
        server_header=False,
        proxy_headers=False,  # no proxy's word is taken for the client's address
        timeout_graceful_shutdown=20,
        **options,
    )
    return uvicorn.Server(config)


def _run_http_worker(runtime: Runtime, sock: socket.socket) -> None:
    server = _uvicorn(Routes(runtime.app, runtime.healthy, runtime.telemetry))

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # uvicorn turns SIGTERM/SIGINT into a graceful stop, then raises the signal again for the
    # handler it found: this one, so the runtime below is always shut down cleanly. A signal
    # that comes before uvicorn's handlers are in place stops it as soon as it has started.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    try:
        server.run(sockets=[sock])
    finally:
        log.info("stopped taking requests; finishing in-flight work")
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
    health = _uvicorn(Routes(None, runtime.healthy, runtime.telemetry), host=host, port=port)
    health_thread = threading.Thread(target=health.run, name="healthz", daemon=True)
    health_thread.start()
    handler = GatedSocketModeHandler(runtime.app, app_token, web_client=runtime.app.client)
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        log.info("SIGTERM: shutting down")
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    handler.connect()  # type: ignore[no-untyped-call]
    print(f"advisor: connected in Socket Mode; health on http://{host}:{port}/healthz", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        health.should_exit = True
        health_thread.join(timeout=25)
        runtime.shutdown()
