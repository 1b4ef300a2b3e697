"""Nothing Slack was told we received is lost or doubled: real processes, a real SQLite file
and a real Redis, the loopback Web API answering as slowly as slack.com does.

Slack never sends an event again once it got a 200 for it, so these tests never redeliver
after a 200: a process SIGKILLed with work acknowledged must leave that work on record, and
whoever runs next must finish it, once.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack.executor import BoundedExecutor
from bot.adapters.slack.inbox import MAX_ATTEMPTS, Admission, Inbox, Job
from bot.bench.processes import Server, advisor_server
from bot.loopback.requests import command_body
from bot.loopback.slack_api import FakeSlackAPI
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore
from tests.slack_requests import Slack, dm_event

QUESTION = "is fastapi really faster than flask?"


def _serve(api: FakeSlackAPI, store: str, log: Path) -> Server:
    # One process (no supervisor), so that SIGKILL takes all of it at once.
    return advisor_server(api.url, store, log, ADVISOR_WORKERS="1").ready(health="/healthz")


def _answers(api: FakeSlackAPI, user: str) -> int:
    return len(api.calls_to("chat.postMessage", channel=f"D{user}"))


def test_questions_acknowledged_before_a_sigkill_are_answered_once_after_a_restart(
    tmp_path: Path,
) -> None:
    api = FakeSlackAPI().start()
    api.latency = 0.1  # slack.com's answer time from a cloud region
    store = f"sqlite:///{tmp_path}/var/advisor.sqlite3"
    users = [f"UKILL{n:03d}" for n in range(40)]
    first = _serve(api, store, tmp_path / "first.log")
    slack = Slack(first.base)
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(
                pool.map(
                    lambda user: slack.event(dm_event(user, QUESTION, "1700400000.000100"))[0],
                    users,
                )
            )
        assert statuses == [200] * len(users)
    finally:
        first.kill()
        first.stop()
    unanswered = [user for user in users if _answers(api, user) == 0]
    assert unanswered, "the kill came too late to leave any work undone: the test proves nothing"
    left = SQLiteStore(tmp_path / "var" / "advisor.sqlite3")
    assert left.inbox_depth() >= len(unanswered)  # on record, though the process is gone
    left.close()
    second = _serve(api, store, tmp_path / "second.log")
    try:
        started = time.monotonic()
        api.wait_until(lambda: all(_answers(api, user) for user in users), timeout=30)
        assert time.monotonic() - started < 30
        time.sleep(1.5)  # a second answer would come now, if there were one
        assert {user: _answers(api, user) for user in users} == dict.fromkeys(users, 1)
        api.wait_until(lambda: _inbox_depth(tmp_path) == 0, timeout=5)
    finally:
        assert second.stop() == 0
        api.stop()


def _inbox_depth(tmp_path: Path) -> int:
    store = SQLiteStore(tmp_path / "var" / "advisor.sqlite3")
    try:
        return store.inbox_depth()
    finally:
        store.close()


def test_a_replayed_slash_command_is_answered_once(tmp_path: Path) -> None:
    api = FakeSlackAPI().start()
    server = _serve(api, f"sqlite:///{tmp_path}/advisor.sqlite3", tmp_path / "serve.log")
    slack = Slack(server.base)
    try:
        url = api.response_url("replayed")
        body = command_body("is flask dead?", response_url=url, user="UREPLAY")
        form, signed_at = "application/x-www-form-urlencoded", int(time.time())
        statuses = [slack.post(body, form, timestamp=signed_at)[0] for _ in range(5)]
        assert statuses == [200] * 5  # each a valid signed request, replayed in its window
        other = command_body("is flask dead?", response_url=url, user="UREPLAY")
        assert slack.post(other, form, timestamp=signed_at)[0] == 200  # typed again: new
        api.responses("replayed", count=2)
        time.sleep(1.0)
        assert len(api.calls_to("response_url")) == 2
    finally:
        assert server.stop() == 0
        api.stop()


def test_an_owed_question_is_sent_before_a_new_message_is_read_and_not_answered_by_it(
    tmp_path: Path,
) -> None:
    """A turn decided and saved with its question still owed (the process died while posting
    it): the user, waiting, repeats their last answer. They get the question, and that repeat
    is not taken as its answer, because it was written before the question was seen."""
    api = FakeSlackAPI().start()
    path = tmp_path / "advisor.sqlite3"
    server = _serve(api, f"sqlite:///{path}", tmp_path / "serve.log")
    slack = Slack(server.base)
    user, root = "UOWED", "1700500000.000100"
    channel = f"D{user}"
    try:
        slack.event(dm_event(user, "recommend", root))
        api.wait_for("chat.postMessage", channel=channel)
        slack.event(dm_event(user, "1", "1700500000.000200", root))
        api.wait_until(lambda: len(_questions(api, channel)) == 2)
        owed = _owe_the_last_question(api, path, user, root)
        assert len(_questions(api, channel)) == 1  # as far as Slack knows
        slack.event(dm_event(user, "1", "1700500000.000300", root))  # the repeat
        api.wait_until(lambda: len(_questions(api, channel)) == 2)
        time.sleep(1.0)
        assert _questions(api, channel)[-1] == owed  # sent, and nothing after it
        state = _state(path, user, root)
        assert state["pending"] == owed
        assert owed not in (state.get("answers") or {})
        assert not state.get("outbox")
    finally:
        assert server.stop() == 0
        api.stop()


def _questions(api: FakeSlackAPI, channel: str) -> list[str]:
    found = []
    for call in api.calls_to("chat.postMessage", channel=channel):
        meta = call.params.get("metadata") or {}
        meta = json.loads(meta) if isinstance(meta, str) else meta
        if meta.get("event_type") == "advisor_question":
            found.append(str(meta["event_payload"]["factor"]))
    return found


def _state(path: Path, user: str, root: str) -> dict[str, Any]:
    store = SQLiteStore(path)
    try:
        row = store._connection().execute(
            "SELECT data FROM conversations WHERE key LIKE ?", (f"dm:%:D{user}:{root}:{user}",)
        )
        data: dict[str, Any] = json.loads(row.fetchone()[0])
        return data
    finally:
        store.close()


def _owe_the_last_question(api: FakeSlackAPI, path: Path, user: str, root: str) -> str:
    """Make the last question owed, as if the process had died before Slack took it: it is
    put back in the conversation's outbox, and Slack's record of it is forgotten."""
    posts = api.calls_to("chat.postMessage", channel=f"D{user}")
    last = posts[-1]
    with api._lock:
        api.calls.remove(last)
    meta = last.params["metadata"]
    meta = json.loads(meta) if isinstance(meta, str) else meta
    store = SQLiteStore(path)
    try:
        connection = store._connection()
        key, data, version = connection.execute(
            "SELECT key, data, version FROM conversations WHERE key LIKE ?",
            (f"dm:%:D{user}:{root}:{user}",),
        ).fetchone()
        state = json.loads(data)
        post = {k: v for k, v in last.params.items() if k in {"text", "blocks", "metadata"}}
        for name in ("blocks", "metadata"):
            if isinstance(post.get(name), str):
                post[name] = json.loads(post[name])
        post["metadata"] = {
            k: v for k, v in post["metadata"].items() if k in {"event_type", "event_payload"}
        }
        state["outbox"], state["outbox_turn"] = [post], meta["event_payload"]["turn"]
        connection.execute(
            "UPDATE conversations SET data = ?, version = ? WHERE key = ?",
            (json.dumps(state), version + 1, key),
        )
        return str(meta["event_payload"]["factor"])
    finally:
        store.close()


def test_a_full_backlog_never_blocks_the_hand_off_and_the_entry_waits_in_the_store() -> None:
    executor = BoundedExecutor(max_workers=1, backlog=1)
    store = MemoryStore()
    ran: list[str] = []
    release = threading.Event()

    def job(name: str) -> Job:
        def run() -> bool:
            release.wait(5)
            ran.append(name)
            return True

        return run

    inbox = Inbox(store, executor, lambda entry: job(entry.data["n"]), lease=5, poll=0.05)
    assert inbox.admit("a", {"n": "a"}, job("a")) is Admission.TAKEN
    started = time.monotonic()
    assert inbox.admit("b", {"n": "b"}, job("b")) is Admission.QUEUED  # no thread was free
    assert time.monotonic() - started < 0.5
    assert inbox.admit("b", {"n": "b"}, job("b")) is Admission.REPEAT
    assert store.inbox_depth() == 2
    inbox.start()
    release.set()
    deadline = time.monotonic() + 5
    while store.inbox_depth() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(ran) == ["a", "b"]
    assert store.inbox_depth() == 0
    inbox.close()
    executor.shutdown()


def test_work_that_failed_for_a_passing_reason_is_tried_again_then_given_up() -> None:
    executor = BoundedExecutor(max_workers=2)
    store = MemoryStore()
    tries: list[int] = []

    def failing() -> bool:
        tries.append(1)
        return False  # the store or Slack was out

    inbox = Inbox(store, executor, lambda entry: failing, lease=0.1, poll=0.02)
    inbox.admit("x", {}, failing)
    inbox.start()
    deadline = time.monotonic() + 5
    while store.inbox_depth() and time.monotonic() < deadline:
        time.sleep(0.02)
    inbox.close()
    executor.shutdown()
    assert len(tries) == MAX_ATTEMPTS
    assert store.inbox_depth() == 0  # dropped, with a log line, after the last attempt


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sighup_stops_the_service_gracefully(tmp_path: Path, workers: str) -> None:
    api = FakeSlackAPI().start()
    server = advisor_server(
        api.url, f"sqlite:///{tmp_path}/a.sqlite3", tmp_path / "serve.log", ADVISOR_WORKERS=workers
    ).ready(health="/healthz")
    try:
        server.process.send_signal(signal.SIGHUP)
        assert server.process.wait(timeout=30) == 0, server.log.read_text()
        assert "stopped taking requests" in server.log.read_text()
    finally:
        server.stop()
        api.stop()
