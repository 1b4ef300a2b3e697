"""The listeners' executor: futures, the bound on waiting work, the most recently idle thread
first, and shutdown. Real threads throughout."""

from __future__ import annotations

import threading
import time

import pytest

from bot.adapters.slack.executor import BoundedExecutor


def _name() -> str:
    return threading.current_thread().name


def test_results_and_errors_come_back_through_futures() -> None:
    pool = BoundedExecutor(max_workers=2, thread_name_prefix="t")
    assert pool.submit(sum, [1, 2, 3]).result(timeout=5) == 6
    failed = pool.submit(int, "not a number")
    with pytest.raises(ValueError, match="invalid literal"):
        failed.result(timeout=5)
    pool.shutdown()


def test_the_thread_that_went_idle_last_takes_the_next_job() -> None:
    pool = BoundedExecutor(max_workers=3, thread_name_prefix="t")
    gates = [threading.Event() for _ in range(3)]
    started = threading.Barrier(4)

    def hold(gate: threading.Event) -> str:
        started.wait(timeout=5)
        gate.wait(timeout=5)
        return _name()

    running = [pool.submit(hold, gate) for gate in gates]
    started.wait(timeout=5)  # three threads, each holding one job
    names = []
    for gate, future in zip(gates, running, strict=True):  # they finish in this order
        gate.set()
        names.append(future.result(timeout=5))
        time.sleep(0.05)  # until that thread is idle again
    assert len(set(names)) == 3
    # Taking turns, the next job would go to names[0], idle the longest.
    assert pool.submit(_name).result(timeout=5) == names[-1]
    assert pool.submit(_name).result(timeout=5) == names[-1]
    pool.shutdown()


def test_submitting_waits_while_the_backlog_is_full() -> None:
    pool = BoundedExecutor(max_workers=1, backlog=2, thread_name_prefix="t")
    gate = threading.Event()
    first = pool.submit(gate.wait, 5)
    second = pool.submit(gate.wait, 5)
    submitted = threading.Event()

    def third() -> None:
        pool.submit(int, "3")
        submitted.set()

    submitter = threading.Thread(target=third)
    submitter.start()
    assert not submitted.wait(0.3)  # two places, both taken: the caller waits
    gate.set()
    assert submitted.wait(5)
    assert first.result(timeout=5)
    assert second.result(timeout=5)
    submitter.join(timeout=5)
    pool.shutdown()


def test_shutdown_finishes_the_queued_work_then_refuses_more() -> None:
    pool = BoundedExecutor(max_workers=1, thread_name_prefix="t")
    done: list[int] = []

    def slowly(n: int) -> None:
        time.sleep(0.02)
        done.append(n)

    futures = [pool.submit(slowly, n) for n in range(5)]
    pool.shutdown(wait=True)
    assert done == [0, 1, 2, 3, 4]
    assert all(f.done() for f in futures)
    with pytest.raises(RuntimeError):
        pool.submit(int, "1")


def test_shutdown_can_cancel_what_has_not_started() -> None:
    pool = BoundedExecutor(max_workers=1, thread_name_prefix="t")
    gate = threading.Event()
    running = pool.submit(gate.wait, 5)
    time.sleep(0.05)
    queued = [pool.submit(int, "1") for _ in range(3)]
    pool.shutdown(wait=False, cancel_futures=True)  # while the first job still runs
    gate.set()
    pool.shutdown(wait=True)
    assert running.result(timeout=5) is True
    assert all(f.cancelled() for f in queued)
