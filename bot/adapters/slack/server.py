"""`advisor serve`: the Bolt app over HTTP (uvicorn, one or more worker processes) or Socket Mode.

HTTP serves POST /slack/events (the signature and its 5-minute window are checked on the raw
bytes before anything else, door.py), GET /healthz (200 when the store answers and the
knowledge is loaded, else 503, observed off the event loop, health.py), and GET /metrics
(Prometheus) on a port of its own; see routes.py, and workers.py for several processes.
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
from bot.adapters.slack.door import Limits, Signatures, bounded
from bot.adapters.slack.executor import BoundedExecutor
from bot.adapters.slack.health import Health
from bot.adapters.slack.inbox import Inbox
from bot.adapters.slack.routes import Routes
from bot.adapters.slack.service import SlackService
from bot.adapters.slack.telemetry import Telemetry
from bot.adapters.slack.workers import STOP_SIGNALS, Supervisor, shared_metrics
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
    inbox: Inbox
    signatures: Signatures | None = None
    health: Health | None = None

    def start(self) -> None:
        """In the process that serves (after any fork): the first health observation, before
        the first probe can ask, and the inbox's watcher, which resumes work left unfinished."""
        self.healthy()
        self.inbox.start()

    def probe(self) -> bool:
        """Can this process serve: knowledge loaded, store answering (may block: off-loop)."""
        return bool(self.advisor.kb.facts) and self.advisor.store.ping()

    def healthy(self) -> bool:
        if self.health is None:
            self.health = Health(self.probe).start()
        return self.health.ok()

    def routes(self, metrics_port: int | None, *, events: bool = True) -> Routes:
        bolt = self.app if events else None
        return Routes(
            bolt,
            self.healthy,
            self.telemetry,
            signatures=self.signatures,
            metrics_port=metrics_port,
        )

    def shutdown(self) -> None:
        if self.health is not None:
            self.health.stop()
        self.inbox.close()  # what has not started goes back to the inbox, for others to take
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
    app, inbox = build_app(
        service=SlackService(advisor, settings.rate_limit, settings.admin_ids()),
        client=client,
        signing_secret=settings.slack_signing_secret,
        executor=executor,
        telemetry=telemetry,
        verify_requests=mode == "http",
    )
    secret = settings.slack_signing_secret
    signatures = Signatures(secret) if mode == "http" and secret else None
    return Runtime(app, advisor, executor, telemetry, inbox, signatures)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before any worker starts so that all of them share it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def serve_http(
    build: Callable[[], Runtime],
    host: str,
    port: int,
    workers: int = 1,
    metrics_port: int | None = None,
) -> int:
    """Serve until SIGTERM; the exit code. `build` makes a worker's runtime: with several
    workers it runs in each one after the fork (workers.py). /metrics is served on
    `metrics_port` only (default: the next port)."""
    metrics_port = metrics_port or port + 1
    socks = [listen(host, port), listen(host, metrics_port)]
    runtime = build() if workers <= 1 else None  # a bad store or token fails before "listening"
    log.info(
        "serving HTTP on %s:%s (/slack/events, /healthz), metrics on :%s, %d worker(s)",
        host,
        port,
        metrics_port,
        workers,
    )
    print(f"advisor: listening on http://{host}:{port}/slack/events", flush=True)
    if runtime is not None:
        _run_http_worker(runtime, socks, metrics_port)
        return 0
    with shared_metrics():
        return Supervisor(workers, lambda: _run_http_worker(build(), socks, metrics_port)).run()


def _uvicorn(routes: Routes, limits: Limits | None = None, **options: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        routes,
        loop="uvloop",
        http=bounded(limits or Limits()),
        lifespan="off",
        log_config=None,  # ours (telemetry.configure_logging): JSON lines
        log_level="warning",
        access_log=False,  # telemetry logs each handled request once, with its outcome
        server_header=False,
        proxy_headers=False,  # no proxy's word is taken for the client's address
        timeout_keep_alive=5,  # an idle keep-alive connection is closed after this
        timeout_graceful_shutdown=20,
        **options,
    )
    return uvicorn.Server(config)


def _run_http_worker(runtime: Runtime, socks: list[socket.socket], metrics_port: int) -> None:
    server = _uvicorn(runtime.routes(metrics_port))

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # uvicorn turns SIGTERM/SIGINT into a graceful stop, then raises the signal again for the
    # handler it found: this one, so the runtime below is always shut down cleanly. A signal
    # that comes before uvicorn's handlers are in place stops it as soon as it has started.
    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    runtime.start()
    try:
        server.run(sockets=socks)
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


def serve_socket(
    runtime: Runtime, app_token: str, host: str, port: int, metrics_port: int | None = None
) -> None:
    """Socket Mode; /healthz still answers on `port` so orchestrators can probe the replica,
    and /metrics on `metrics_port` (default: the next port)."""
    metrics_port = metrics_port or port + 1
    socks = [listen(host, port), listen(host, metrics_port)]
    health = _uvicorn(runtime.routes(metrics_port, events=False))
    runtime.start()
    health_thread = threading.Thread(
        target=health.run, kwargs={"sockets": socks}, name="healthz", daemon=True
    )
    health_thread.start()
    handler = GatedSocketModeHandler(runtime.app, app_token, web_client=runtime.app.client)
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        log.info("%s: shutting down", signal.Signals(signum).name)
        stopped.set()

    for sig in STOP_SIGNALS - {signal.SIGINT}:  # Ctrl-C stays a KeyboardInterrupt
        signal.signal(sig, stop)
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
