"""The executor the listeners hand their work to, with a bound on the work waiting in it.

Every request is acknowledged at once and its work queued (listeners.py). Without a bound, a
burst faster than the replies go out grows the queue, and memory, without limit: under the
bench's 8 senders one process queued thousands of requests and reached 141 MB. With one,
taking a request waits for a free place, so the server stops reading new ones and the backlog
stays in the clients and the kernel's socket queues, which is where it belongs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

BACKLOG = 256  # queued or running: a few seconds of work at worst, a few MB of payloads


class BoundedExecutor(ThreadPoolExecutor):
    def __init__(self, max_workers: int, backlog: int = BACKLOG, **kwargs: Any) -> None:
        super().__init__(max_workers=max_workers, **kwargs)
        self._places = threading.BoundedSemaphore(backlog)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self._places.acquire()  # blocks the caller (the server's loop) while the backlog is full
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._places.release()
            raise
        future.add_done_callback(lambda _: self._places.release())
        return future
