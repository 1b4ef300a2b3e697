"""Many replicas, one Redis; and a restart on one SQLite file. Real processes, real stores.

Slack delivers each event to whichever replica it reaches and redelivers when unsure; a
replica may die at any moment. Every dialog must still end in exactly one verdict, with no
question posted twice for one answer.
"""

from __future__ import annotations

import json
import threading
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

from bot.bench.processes import advisor_server
from bot.kb.loader import load_knowledge
from bot.loopback.slack_api import FakeSlackAPI
from tests.slack_requests import Slack, dm_event

REDIS_URL = "redis://127.0.0.1:6379/12"
FACTORS = load_knowledge().dialog.order  # asked in this order, each once
# Answering "1" to each: a web app, high concurrency, docs matter, the team knows async. Then
# it is FastAPI whatever else is said, so the last two questions are not asked.
ASKED = FACTORS[:4]


class Replica:
    """One `advisor serve --http` of the cluster, and the Slack that reaches it."""

    def __init__(self, api: FakeSlackAPI, store: str, log: Path) -> None:
        self.server = advisor_server(api.url, store, log)
        self.slack = Slack(self.server.base)
        self.alive = True

    def wait_healthy(self) -> None:
        self.server.ready(health="/healthz")

    def kill(self) -> None:
        self.alive = False
        self.server.kill()

    def stop(self) -> None:
        if self.alive:
            assert self.server.stop() == 0, self.server.log.read_text()
            self.alive = False
        else:
            self.server.stop()


def _metadata(call: Any) -> dict[str, Any]:
    value = call.params.get("metadata") or {}
    return json.loads(value) if isinstance(value, str) else value


def _kinds(api: FakeSlackAPI, channel: str) -> list[tuple[str, Any]]:
    found = []
    for call in api.calls_to("chat.postMessage", channel=channel):
        meta = _metadata(call)
        if meta.get("event_type") == "advisor_question":
            found.append(("question", meta["event_payload"]["factor"]))
        elif meta.get("event_type") == "advisor_recommendation":
            found.append(("verdict", meta["event_payload"]["framework"]))
    return found


class Cluster:
    """Sends each event to a replica in turn (the next live one if that one is down), then
    redelivers it to another replica, as Slack does when it is unsure of an ack."""

    def __init__(self, replicas: list[Replica], redeliver: bool = True) -> None:
        self.replicas = replicas
        self.redeliver = redeliver
        self.turn = 0
        self.lock = threading.Lock()

    def _send(self, start: int, event: dict[str, Any], event_id: str, retry: bool) -> int:
        headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"} if retry else {}
        for offset in range(len(self.replicas)):
            index = (start + offset) % len(self.replicas)
            replica = self.replicas[index]
            if not replica.alive:
                continue
            try:
                status = replica.slack.event(event, event_id=event_id, headers=headers)[0]
            except (urllib.error.URLError, ConnectionError, OSError):
                continue  # died under us: the load balancer tries the next one
            if status == 200:
                return index
        raise AssertionError("no replica took the event")

    def deliver(self, event: dict[str, Any], event_id: str) -> None:
        with self.lock:
            self.turn += 1
            start = self.turn
        first = self._send(start, event, event_id, retry=False)
        if self.redeliver:
            self._send(first + 1, event, event_id, retry=True)


def _dialog(cluster: Cluster, api: FakeSlackAPI, n: int) -> None:
    user = f"UREP{n:03d}"
    root = f"1700200000.{n:04d}00"
    cluster.deliver(dm_event(user, "recommend", root), f"EvR{n}-0")
    for step in range(1, len(ASKED) + 1):
        api.wait_until(lambda step=step: len(_kinds(api, f"D{user}")) >= step, timeout=60)
        ts = f"1700200000.{n:04d}{step:02d}"
        cluster.deliver(dm_event(user, "1", ts, root), f"EvR{n}-{step}")
    api.wait_until(lambda: any(k == "verdict" for k, _ in _kinds(api, f"D{user}")), timeout=60)


def _run_cluster(tmp_path: Path, redeliver: bool) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # fails, not skips, without Redis
    client.flushdb()
    api = FakeSlackAPI().start()
    replicas = [Replica(api, REDIS_URL, tmp_path / f"replica{i}.log") for i in range(3)]
    try:
        for replica in replicas:
            replica.wait_healthy()
        cluster = Cluster(replicas, redeliver=redeliver)
        dialogs = 30

        def kill_midway() -> None:
            total = dialogs * (len(ASKED) + 1)
            api.wait_until(lambda: len(api.calls_to("chat.postMessage")) >= total // 3, 60)
            replicas[2].kill()

        killer = threading.Thread(target=kill_midway)
        killer.start()
        with ThreadPoolExecutor(max_workers=dialogs) as pool:
            for future in [pool.submit(_dialog, cluster, api, n) for n in range(dialogs)]:
                future.result()
        killer.join()
        assert not replicas[2].alive
        for n in range(dialogs):
            kinds = _kinds(api, f"DUREP{n:03d}")
            assert kinds == [*(("question", f) for f in ASKED), ("verdict", "fastapi")], (
                n,
                kinds,
            )
    finally:
        for replica in replicas:
            replica.stop()
        api.stop()
        client.flushdb()
        client.close()


def test_three_replicas_one_redis_and_a_sigkill(tmp_path: Path) -> None:
    """Every event also redelivered to another replica, as Slack does when unsure."""
    _run_cluster(tmp_path, redeliver=True)


def test_a_sigkilled_replica_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    """Slack's real contract: never again after a 200. What the dead replica acknowledged
    and had not finished is taken over from the inbox by the others."""
    _run_cluster(tmp_path, redeliver=False)


def test_a_restarted_replica_continues_the_dialog_from_its_sqlite_file(tmp_path: Path) -> None:
    api = FakeSlackAPI().start()
    store = f"sqlite:///{tmp_path}/var/advisor.sqlite3"
    user, root = "URESTART", "1700300000.000100"
    first = Replica(api, store, tmp_path / "first.log")
    try:
        first.wait_healthy()
        first.slack.event(dm_event(user, "recommend a json api", root))
        api.wait_until(lambda: len(_kinds(api, f"D{user}")) >= 1)
        first.slack.event(dm_event(user, "yes", "1700300000.000200", root))
        api.wait_until(lambda: len(_kinds(api, f"D{user}")) >= 2)
    finally:
        first.kill()
        first.stop()
    second = Replica(api, store, tmp_path / "second.log")
    try:
        second.wait_healthy()
        # A minimal core, modest traffic, no docs: even, so the size decides.
        for i, answer in enumerate(["1", "no", "no", "large"], start=3):
            second.slack.event(dm_event(user, answer, f"1700300000.000{i}00", root))
            api.wait_until(lambda i=i: len(_kinds(api, f"D{user}")) >= i)
        assert _kinds(api, f"D{user}") == [
            ("question", "async_familiarity"),
            ("question", "control"),
            ("question", "concurrency"),
            ("question", "validation_docs"),
            ("question", "project_size"),
            ("verdict", "fastapi"),
        ]
    finally:
        second.stop()
        api.stop()
