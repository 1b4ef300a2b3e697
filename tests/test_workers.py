"""`advisor serve --workers N`: several processes on one socket and one SQLite file.

Real processes throughout: a supervisor that replaces a killed worker and stops cleanly on
SIGTERM, and the fcntl conversation locks and shared rate-limit counts that make the SQLite
store safe for them (a second process is a real `python -c` holding the lock).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bot.bench.processes import advisor_server
from bot.loopback.slack_api import Failure, FakeSlackAPI
from bot.store.base import ConversationKey
from bot.store.sqlite import SQLiteStore
from tests.slack_requests import Slack, dm_event, unique

KEY = ConversationKey("slack", "T1", "D1", "", "U1")


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped counts as gone)."""
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(
    api: FakeSlackAPI, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    server = advisor_server(api.url, f"sqlite:///{tmp_path}/a.db", log, ADVISOR_WORKERS="3")
    try:
        server.ready(health="/healthz")
        parent = server.process.pid
        _wait(lambda: len(_children(parent)) == 3)
        first = _children(parent)
        os.kill(first[0], signal.SIGKILL)  # a worker dying mid-service, nothing flushed
        _wait(lambda: len(_children(parent)) == 3 and first[0] not in _children(parent))
        assert "exited with -9; starting another" in log.read_text()
        slack = Slack(server.base)
        for n in range(6):  # whichever worker the kernel hands each request to answers it
            user = unique("U")
            assert slack.event(dm_event(user, "is flask dead?", ts=f"1.{n}"))[0] == 200
            api.wait_for("chat.postMessage", channel=f"D{user}")
        workers = _children(parent)
    finally:
        code = server.stop()
    assert code == 0, log.read_text()
    assert all(_gone(pid) for pid in workers)
    assert "Traceback" not in log.read_text()


def test_workers_that_keep_dying_at_start_stop_the_service(tmp_path: Path) -> None:
    """Slack refuses the token at start (auth.test): each worker dies; the service must end
    with an error instead of forking forever."""
    api = FakeSlackAPI().start()
    api.fail("auth.test", *[Failure(200, {"ok": False, "error": "invalid_auth"})] * 1000)
    log = tmp_path / "serve.log"
    server = advisor_server(api.url, f"sqlite:///{tmp_path}/a.db", log, ADVISOR_WORKERS="2")
    try:
        assert server.process.wait(timeout=60) == 1
    finally:
        server.stop()
        api.stop()
    text = log.read_text()
    assert "keep exiting at start" in text


def _hold_lock_in_another_process(db: Path, seconds: float) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from bot.store.sqlite import SQLiteStore\n"
        "from bot.store.base import ConversationKey\n"
        "store = SQLiteStore(Path(sys.argv[1]))\n"
        "with store.lock(ConversationKey('slack', 'T1', 'D1', '', 'U1')):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(float(sys.argv[2]))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_conversation_lock_holds_across_processes_and_dies_with_its_holder(
    tmp_path: Path,
) -> None:
    db = tmp_path / "a.db"
    store = SQLiteStore(db)
    child = _hold_lock_in_another_process(db, 1.0)
    began = time.monotonic()
    with store.lock(KEY):
        waited = time.monotonic() - began
        assert child.poll() is not None or waited > 0.5  # it was held until the other let go
    child.wait(timeout=10)
    other = ConversationKey("slack", "T1", "D2", "", "U2")  # another stripe: not held up
    killed = _hold_lock_in_another_process(db, 60)
    with store.lock(other):
        pass
    killed.send_signal(signal.SIGKILL)  # the kernel drops a dead process's locks
    killed.wait(timeout=10)
    with store.lock(KEY):
        pass
    store.close()


def test_the_rate_limit_count_is_shared_by_processes_on_one_file(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    one, two = SQLiteStore(db), SQLiteStore(db)
    counts = [store.hit("user:U1", 60) for store in (one, two, one, two)]
    assert counts[-1] == 4  # not 2 and 2: another process's messages count too
    assert one.hit("user:U2", 60) == 1
    one.close()
    two.close()


def test_a_memory_store_runs_one_worker_when_none_is_asked_for(
    api: FakeSlackAPI, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    server = advisor_server(api.url, "memory://", log)
    try:
        server.ready(health="/healthz")
        assert _children(server.process.pid) == []
        _wait(lambda: "1 worker(s)" in log.read_text())  # information lines come in batches
    finally:
        assert server.stop() == 0


def test_workers_stop_when_their_supervisor_is_killed(api: FakeSlackAPI, tmp_path: Path) -> None:
    """SIGKILL (the OOM killer, say) gives the supervisor no chance to stop its workers: they
    notice they were re-parented and stop as SIGTERM would stop them, instead of serving on
    the port unsupervised."""
    log = tmp_path / "serve.log"
    server = advisor_server(api.url, f"sqlite:///{tmp_path}/a.db", log, ADVISOR_WORKERS="2")
    try:
        server.ready(health="/healthz")
        parent = server.process.pid
        _wait(lambda: len(_children(parent)) == 2)
        workers = _children(parent)
        server.kill()
        _wait(lambda: all(_gone(pid) for pid in workers), timeout=30)
    finally:
        server.stop()
    text = log.read_text()
    assert text.count("is gone; stopping this worker") == 2
    assert "Traceback" not in text


def test_a_database_deleted_under_the_workers_is_reported_never_split(
    api: FakeSlackAPI, tmp_path: Path
) -> None:
    """The file deleted while two workers run: /healthz turns 503, and a replaced worker
    refuses to start an empty database of its own (answers would alternate between two)."""
    log = tmp_path / "serve.log"
    db = tmp_path / "a.db"
    server = advisor_server(api.url, f"sqlite:///{db}", log, ADVISOR_WORKERS="2")
    try:
        server.ready(health="/healthz")
        parent = server.process.pid
        _wait(lambda: len(_children(parent)) == 2)
        db.unlink()
        _wait(lambda: _health(server.base) == 503, timeout=20)
        os.kill(_children(parent)[0], signal.SIGKILL)
        _wait(lambda: "is gone, though the service created it" in log.read_text(), timeout=20)
        assert not db.exists()  # no worker made a new, empty one
    finally:
        server.stop()
    assert "was deleted or replaced under the running service" in log.read_text()


def _health(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
