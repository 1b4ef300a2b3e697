"""The executor the listeners hand their work to: a bound on the work waiting in it, and the
most recently idle thread first.

Every request is recorded in the inbox, acknowledged, and its work queued (listeners.py,
inbox.py). Without a bound, a burst faster than the replies go out grows the queue, and
memory, without limit. The listeners never wait for a place (the server's loop must not):
they `reserve` one, and when none is free the delivery stays in the inbox, in the store, for
the first thread that comes free.

Idle threads wait on a stack, not a queue. ThreadPoolExecutor's threads take turns (they wait
on one queue, woken first come first served), so at a few messages a second every turn ran on
the thread that had been idle longest, with its caches, its SQLite connection's pages and its
CPU the coldest. Taking the thread that finished last keeps the warmest one working (the
README's Performance section has the measurements); under load every thread is busy either way.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

BACKLOG = 256  # queued or running: a few seconds of work at worst, a few MB of payloads


@dataclass
class _Job:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class BoundedExecutor(Executor):
    def __init__(
        self, max_workers: int, backlog: int = BACKLOG, thread_name_prefix: str = "work"
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._places = threading.BoundedSemaphore(backlog)
        self._lock = threading.Lock()
        self._jobs: deque[_Job] = deque()
        self._idle: list[threading.Event] = []  # a stack: the last to go idle is woken first
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self._places.acquire()  # blocks the caller while the backlog is full
        return self.submit_reserved(fn, *args, **kwargs)

    def reserve(self) -> bool:
        """Take a place without waiting; False when the backlog is full."""
        return self._places.acquire(blocking=False)

    def unreserve(self) -> None:
        """Give back a place `reserve` took and no job used."""
        self._places.release()

    def submit_reserved(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        """Submit into a place `reserve` took; the place is freed when the job ends."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                self._places.release()
                raise RuntimeError("cannot schedule new work after shutdown")
            self._jobs.append(_Job(future, fn, args, kwargs))
            if self._idle:
                self._idle.pop().set()
            elif len(self._threads) < self._max_workers:
                try:
                    self._start_thread()
                except BaseException:  # no thread to be had: the job is not taken either
                    self._jobs.pop()
                    self._places.release()
                    raise
        future.add_done_callback(lambda _: self._places.release())
        return future

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._prefix}_{len(self._threads)}", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        wake = threading.Event()
        while True:
            with self._lock:
                job = self._jobs.popleft() if self._jobs else None
                if job is None:
                    if self._closed:
                        return
                    wake.clear()
                    self._idle.append(wake)
            if job is None:
                wake.wait()
            else:
                job.run()
                del job  # the request it carried is not kept alive while the thread idles

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            cancelled = list(self._jobs) if cancel_futures else []
            if cancel_futures:
                self._jobs.clear()
            for wake in self._idle:
                wake.set()
            self._idle.clear()
            threads = list(self._threads)
        for job in cancelled:
            job.future.cancel()
        if wait:
            for thread in threads:
                thread.join()
