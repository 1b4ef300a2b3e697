"""Start `advisor serve` (and the Bolt baseline) as real processes against the loopback Slack
Web API, and read what the OS says about them. Used by `advisor bench` and the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import IO

from bot.loopback.requests import SECRET, get

BOT_TOKEN = "xoxb-test-1234567890-abcdefghijkl"
APP_TOKEN = "xapp-1-A1-1234567890-abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slack_env(api_url: str, **extra: str) -> dict[str, str]:
    """This process's environment with the Slack and advisor settings replaced."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ADVISOR_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Server:
    """A server process on a local port, its output in `log`."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        metrics = env.get("ADVISOR_METRICS_PORT")
        self.metrics = f"http://127.0.0.1:{metrics}" if metrics else self.base
        self.log = log
        self._output: IO[str] = log.open("a")
        self.process = subprocess.Popen(
            argv, env=env, stdout=self._output, stderr=subprocess.STDOUT
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self, timeout: float = 30.0, health: str | None = None) -> Server:
        """Wait until the port accepts connections (or `health` answers 200)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.log} ended early:\n{self.log.read_text()}")
            try:
                if health is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return self
                if get(f"{self.base}{health}")[0] == 200:
                    return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"not ready on port {self.port}:\n{self.log.read_text()}")

    def memory_mb(self) -> dict[str, float]:
        """The process and its workers (if any), summed: PSS (smaps_rollup), which splits the
        pages they share among them; RSS now and peak RSS, which count a shared page once per
        process; and the largest single peak."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(pid) for pid in children.read_text().split()]
        peaks = [_kib(Path(f"/proc/{pid}/status"), "VmHWM:") for pid in pids]
        rss = sum(_kib(Path(f"/proc/{pid}/status"), "VmRSS:") for pid in pids)
        pss = sum(_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") for pid in pids)
        return {
            "processes": len(pids),
            "pss_mb": round(pss / 1024, 1),
            "rss_mb": round(rss / 1024, 1),
            "summed_peak_rss_mb": round(sum(peaks) / 1024, 1),
            "largest_peak_rss_mb": round(max(peaks) / 1024, 1),
        }

    def kill(self) -> None:
        """SIGKILL: a replica dying mid-run, nothing flushed, no lock released."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM and the exit code (None when it had to be killed)."""
        code: int | None = self.process.returncode
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                code = None
        self._output.close()
        return code


def _kib(path: Path, field: str) -> int:
    line = next(ln for ln in path.read_text().splitlines() if ln.startswith(field))
    return int(line.split()[1])


def advisor_server(api_url: str, store: str, log: Path, **env: str) -> Server:
    """`advisor serve --http` on a free local port."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env.setdefault("ADVISOR_METRICS_PORT", str(free_port()))
    return Server(argv, slack_env(api_url, ADVISOR_STORE=store, **env), port, log)


def minimal_bolt_server(api_url: str, log: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bot.bench.minimal_app", str(port)]
    return Server(argv, slack_env(api_url), port, log)
