"""The inbox: a delivery is on record in the store before Slack hears it was received, and is
handled from there, so nothing acknowledged is lost when a process dies.

Slack never sends an event again once it got a 200 for it. So the listener writes the delivery
(with its dedupe mark, in one store write) before it acknowledges, and the process that wrote
it runs it at once, holding a lease that is renewed while the work runs. When the work ends,
the entry is forgotten. An entry whose lease runs out (its process died, or had no free thread
when it arrived) is claimed by whichever process looks next: every process looks every
`POLL_SECONDS`, so a crash delays work by about a lease, and a restart resumes it. Running an
entry twice is harmless: a dialog turn is deduplicated inside its conversation, and posts it
still owed are looked for in Slack before they are sent again.

Why leases and not a Redis Stream with a consumer group: the process that acknowledged a
delivery already holds it and should run it without another round trip, but a consumer group
hands an entry to whichever consumer reads next, and XCLAIM can only take an entry some
consumer has read. A lease (a sorted set by lease end in Redis, a column in SQLite) is the same
visibility timeout with the fast path kept local.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import Enum

from bot.adapters.slack.executor import BoundedExecutor
from bot.errors import StoreError
from bot.store.base import JSON, Entry, StateStore

log = logging.getLogger("bot.slack")

# A job returns True when its delivery is finished with (handled, or refused for good), False
# when it should be tried again later (the store or Slack was out).
Job = Callable[[], bool]

LEASE_SECONDS = 4.0  # a dead process's work is taken over after this long (renewed meanwhile)
POLL_SECONDS = 1.0
# Slack retries a delivery it thinks was missed for about an hour; a repeat inside this window
# is recognised whatever else was said in between.
DEDUPE_SECONDS = 2 * 3600
MAX_ATTEMPTS = 5  # a delivery that failed this often is logged and dropped, not retried forever


class Admission(Enum):
    TAKEN = "taken"  # recorded, and running here
    QUEUED = "queued"  # recorded; no thread is free here, so the first free one takes it
    REPEAT = "repeat"  # seen already: acknowledged, and nothing done


class Inbox:
    def __init__(
        self,
        store: StateStore,
        executor: BoundedExecutor,
        rebuild: Callable[[Entry], Job],
        *,
        lease: float = LEASE_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.executor = executor
        self.rebuild = rebuild
        self.lease = lease
        self.poll = poll
        self._guard = threading.Lock()
        self._waiting: set[str] = set()  # submitted here, not started
        self._running: set[str] = set()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a place came free while entries wait
        self._queued = 0  # admitted here without a free place, not yet taken
        self._thread: threading.Thread | None = None
        self._renewed = time.monotonic()

    def admit(self, entry_id: str, data: JSON, job: Job) -> Admission:
        """Record a delivery before it is acknowledged; StoreError when it cannot be (the
        caller then refuses the request, and Slack sends it again)."""
        room = self.executor.reserve()  # never waits: when every place is taken, it is queued
        try:
            added = self.store.inbox_add(
                entry_id,
                data,
                lease_seconds=self.lease if room else 0,
                dedupe_seconds=DEDUPE_SECONDS,
            )
        except BaseException:
            if room:
                self.executor.unreserve()
            raise
        if not added:
            if room:
                self.executor.unreserve()
            return Admission.REPEAT
        if not room:
            with self._guard:
                self._queued += 1
            return Admission.QUEUED
        self._submit(entry_id, job)
        return Admission.TAKEN

    def _submit(self, entry_id: str, job: Job) -> None:
        with self._guard:
            self._waiting.add(entry_id)
        self.executor.submit_reserved(self._run, entry_id, job)

    def _run(self, entry_id: str, job: Job) -> None:
        with self._guard:
            if entry_id not in self._waiting:
                return  # handed back while it waited (shutting down)
            self._waiting.discard(entry_id)
            self._running.add(entry_id)
        finished = True
        try:
            finished = job()
        finally:
            with self._guard:
                self._running.discard(entry_id)
                waiting = self._queued > 0
            if finished:
                self._forget(entry_id)
            if waiting:
                self._wake.set()
            # Otherwise its lease runs out and it is tried again: the lease is the back-off.

    def _forget(self, entry_id: str) -> None:
        try:
            self.store.inbox_done(entry_id)
        except StoreError as exc:  # it runs again later, and the redo is harmless
            log.error("could not mark delivery %s handled: %s", entry_id, exc)

    # -- taking over what is due -----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="inbox", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.renew()
                self.take_due()
            except StoreError as exc:
                log.error("the inbox cannot reach the store: %s", exc)
            except Exception:
                log.exception("the inbox watcher failed a round")

    def renew(self) -> None:
        """Extend the leases of what this process holds, a few times per lease."""
        if time.monotonic() - self._renewed < self.lease / 3:
            return
        with self._guard:
            held = [*self._waiting, *self._running]
        if held:
            self.store.inbox_renew(held, self.lease)
        self._renewed = time.monotonic()

    def take_due(self) -> int:
        """Claim entries whose lease ran out while a place is free here; how many. One at a
        time, so that a claim never holds places an arriving request could have run in."""
        taken = 0
        while taken < 64 and self.executor.reserve():
            try:
                entries = self.store.inbox_claim(self.lease, 1)
            except BaseException:
                self.executor.unreserve()
                raise
            if not entries:
                self.executor.unreserve()
                break
            self._take(entries[0])
            taken += 1
        with self._guard:
            self._queued = max(0, self._queued - taken)
        return taken

    def _take(self, entry: Entry) -> None:
        if entry.attempts > MAX_ATTEMPTS:
            self.executor.unreserve()
            log.error("dropped delivery %s after %d attempts", entry.id, entry.attempts - 1)
            self._forget(entry.id)
            return
        try:
            job = self.rebuild(entry)
        except Exception:
            self.executor.unreserve()
            log.exception("dropped delivery %s: it cannot be read back", entry.id)
            self._forget(entry.id)
            return
        self._submit(entry.id, job)

    # -- stopping ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop taking work and hand back what has not started, for another process (or this
        one's successor) to take at once; work already running is left to finish."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll + 5)
        with self._guard:
            waiting, self._waiting = list(self._waiting), set()
        if waiting:
            try:
                self.store.inbox_renew(waiting, 0)
            except StoreError as exc:  # their leases run out on their own
                log.error("could not hand back %d deliveries: %s", len(waiting), exc)

    def depth(self) -> int:
        return self.store.inbox_depth()
