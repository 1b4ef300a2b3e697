"""Faults from outside: the Redis server goes away mid-run and comes back."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bench.processes import advisor_server, free_port
from bot.core.advisor import Advisor
from bot.insights.events import Privacy
from bot.insights.recorder import Recorder, RecordSettings
from bot.kb.loader import KnowledgeBase
from bot.loopback.requests import SlackSender, get
from bot.loopback.slack_api import Failure, FakeSlackAPI
from bot.matching.matcher import Matcher
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from tests.slack_requests import dm_event
from tests.transcript import Transcript


class RedisServer:
    """A throwaway redis-server of this test's own, so stopping it disturbs nothing else."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is needed (.ci/redis-up installs it)")
        self.binary = binary
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"],
                capture_output=True,
                text=True,
                check=False,
            )
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _health(base: str) -> int:
    return get(f"{base}/healthz")[0]


def _wait_health(base: str, status: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _health(base) == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"/healthz never answered {status}")


def test_redis_outage_turns_health_503_and_the_service_resumes(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    api = FakeSlackAPI().start()
    server = advisor_server(
        api.url, f"redis://127.0.0.1:{redis_server.port}/0", tmp_path / "serve.log"
    )
    try:
        server.ready(health="/healthz")
        slack = SlackSender(server.base)
        slack.event(dm_event("UOUT1", "is flask dead?", "1.1"))
        api.wait_for("chat.postMessage", channel="DUOUT1")
        redis_server.stop()
        _wait_health(server.base, 503)
        missed = dm_event("UOUT2", "is flask dead?", "1.2")
        # Not on record, so not acknowledged: Slack sends it again.
        assert slack.event(missed, event_id="EvOUT2")[0] == 503
        assert server.alive
        redis_server.start()
        _wait_health(server.base, 200)
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
        assert slack.event(missed, event_id="EvOUT2", headers=retry)[0] == 200
        api.wait_for("chat.postMessage", channel="DUOUT2", timeout=15)
        slack.event(dm_event("UOUT3", "is flask dead?", "1.3"))
        api.wait_for("chat.postMessage", channel="DUOUT3", timeout=15)
        log = server.log.read_text()
        assert "refused a message for Slack to retry" in log  # one clear line for the operator
        assert "redis" in log
    finally:
        assert server.stop() == 0
        api.stop()


def test_a_slack_api_timeout_is_retried(tmp_path: Path) -> None:
    api = FakeSlackAPI().start()
    server = advisor_server(api.url, "memory://", tmp_path / "serve.log", ADVISOR_SLACK_TIMEOUT="1")
    try:
        server.ready(health="/healthz")
        api.fail("chat.postMessage", Failure(200, {"ok": True}, delay=2.5))
        SlackSender(server.base).event(dm_event("UTIME", "is flask dead?", "2.1"))
        api.wait_until(lambda: len(api.attempts("chat.postMessage")) >= 2, timeout=20)
        api.wait_for("chat.postMessage", count=2, channel="DUTIME", timeout=20)
        time.sleep(3)  # the hung call's own answer arrives too, but nothing more is posted
        attempts = [
            c for c in api.attempts("chat.postMessage") if c.params.get("channel") == "DUTIME"
        ]
        assert len(attempts) == 2  # the one that hung, and its retry
        assert "store failed" not in server.log.read_text()
    finally:
        assert server.stop() == 0
        api.stop()


def test_the_usage_record_keeps_its_events_through_a_redis_outage(
    redis_server: RedisServer, kb: KnowledgeBase, matcher: Matcher
) -> None:
    """Events that cannot be written wait in memory; nothing reaches the conversation."""
    record = RedisStore.from_url(f"redis://127.0.0.1:{redis_server.port}/0")
    settings = RecordSettings(Privacy(salt=b"s"), flush_interval=3600)
    recorder = Recorder(record, settings)
    chat = Transcript(Advisor(kb, MemoryStore(), matcher=matcher, recorder=recorder))
    chat.say("is fastapi faster?")
    redis_server.stop()
    recorder.flush()  # fails, quietly
    chat.say("docs?")  # the conversation goes on
    assert chat.replies[0].fact is not None
    redis_server.start()  # empty again: nothing was saved to disk
    for _ in range(3):  # the first command may meet the connection the outage broke
        recorder.flush()
        if record.events_since(0):
            break
    assert [e["fact"] for e in record.events_since(0)] == ["performance", "documentation"]
    recorder.close()
    record.close()


def test_a_paused_redis_gets_prompt_refusals_that_slack_retries_and_one_answer_each(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    api = FakeSlackAPI().start()
    server = advisor_server(
        api.url,
        f"redis://127.0.0.1:{redis_server.port}/0",
        tmp_path / "serve.log",
        ADVISOR_WORKERS="1",
    )
    try:
        server.ready(health="/healthz")
        slack = SlackSender(server.base)
        users = [f"UPAUSE{n}" for n in range(4)]
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)  # a stall: alive, and answering nothing
        paused_at = time.monotonic()
        for n, user in enumerate(users):
            status, _, seconds = slack.event(
                dm_event(user, "is flask dead?", f"1.{n}"), event_id=f"EvPAUSE{n}"
            )
            assert status == 503  # not on record: Slack must send it again
            assert seconds < 1.5  # and it is told so well inside its 3 s
            started = time.perf_counter()
            _health(server.base)  # answered from the last observation, never waiting on Redis
            assert time.perf_counter() - started < 0.1
        time.sleep(max(0.0, 3.0 - (time.monotonic() - paused_at)))
        redis_server.process.send_signal(signal.SIGCONT)
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
        for n, user in enumerate(users):
            event = dm_event(user, "is flask dead?", f"1.{n}")
            assert slack.event(event, event_id=f"EvPAUSE{n}", headers=retry)[0] == 200
        for user in users:
            api.wait_for("chat.postMessage", channel=f"D{user}", timeout=15)
        time.sleep(1.0)
        assert [len(api.calls_to("chat.postMessage", channel=f"D{u}")) for u in users] == [1] * 4
    finally:
        assert server.stop() == 0
        api.stop()
