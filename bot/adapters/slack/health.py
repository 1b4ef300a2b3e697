"""What /healthz says, observed off the event loop.

Pinging the store takes as long as the store does: a paused Redis or a stalled disk would hold
the event loop, and with it every ack, for the ping's whole timeout. A thread observes instead,
every few seconds, and /healthz answers at once from the last observation; an observation that
has not come back in time counts as unhealthy, so a hung store still shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("bot.serve")

INTERVAL = 2.0  # seconds between observations
STALE = 6.0  # seconds: an observation older than this says nothing good


class Health:
    def __init__(
        self, probe: Callable[[], bool], interval: float = INTERVAL, stale: float = STALE
    ) -> None:
        self._probe = probe
        self._interval = interval
        self._stale = stale
        self._ok = False
        self._seen = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz", daemon=True)

    def start(self) -> Health:
        self._observe()  # the first answer is a real one
        self._thread.start()
        return self

    def ok(self) -> bool:
        return self._ok and time.monotonic() - self._seen <= self._stale

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._observe()

    def _observe(self) -> None:
        try:
            ok = bool(self._probe())
        except Exception:  # a probe that fails says "unhealthy", never kills the observer
            log.exception("the health probe failed")
            ok = False
        self._ok, self._seen = ok, time.monotonic()
