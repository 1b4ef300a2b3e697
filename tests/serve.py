"""Run `advisor serve` as a real process against the loopback Slack Web API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.bench.processes import APP_TOKEN, BOT_TOKEN, advisor_server, free_port, slack_env

__all__ = ["APP_TOKEN", "BOT_TOKEN", "advisor_http", "free_port", "serve_env"]


def serve_env(api_url: str, store: str, **extra: str) -> dict[str, str]:
    return slack_env(api_url, ADVISOR_STORE=store, **extra)


@contextmanager
def advisor_http(api_url: str, store: str, log: Path, **extra: str) -> Iterator[str]:
    """Yields the base URL of a healthy `advisor serve --http`; stops it with SIGTERM and
    requires a clean exit."""
    server = advisor_server(api_url, store, log, **extra)
    try:
        server.ready(health="/healthz")
        yield server.base
    finally:
        code = server.stop()
        assert code == 0, f"advisor serve exited {code}:\n{log.read_text()}"
