"""Several HTTP worker processes on one listening socket, as gunicorn and uvicorn run them.

Why: CPython runs one thread at a time per process, and a reply is CPU work (verify, match,
decide, save, post). One process tops out near one core; `advisor bench` measures what a
second worker adds, and what it costs in memory (README, "Performance"). Workers share
nothing in memory: conversations, deliveries and the per-user rate limit live in the store
(a SQLite file is shared with fcntl locks, store/locks.py; Redis serves replicas anyway).

The parent loads the knowledge and the matcher once, then forks, so the workers share those
pages; each worker opens its own store connection, threads and Bolt app after the fork (none
of them survive a fork). The parent only supervises: a worker that dies is replaced, SIGTERM
is passed on and waited for, and workers dying over and over at start (a store that cannot
be reached, a token Slack refuses) stop the service instead of looping.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

from bot.errors import AdvisorError

log = logging.getLogger("bot.serve")

CRASH_WINDOW = 10.0  # seconds: this many deaths within it means they will keep dying
CRASH_LIMIT = 5
# SIGHUP too: a closed terminal or a supervisor's reload must stop the service gracefully,
# never kill it with acknowledged work in hand.
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
ORPHAN_CHECK_SECONDS = 0.5  # how soon a worker notices that its supervisor died


def default_workers(cap: int = 4) -> int:
    """One per CPU this process may run on, at most `cap`: a second costs ~40 MB (PSS)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, cap))


@contextlib.contextmanager
def shared_metrics() -> Iterator[None]:
    """Prometheus counters summed over the workers (prometheus_client's multiprocess mode):
    each worker writes its samples to files in a directory the parent owns and removes."""
    from prometheus_client import values

    try:
        directory = tempfile.mkdtemp(prefix="advisor-metrics-")
    except OSError as error:
        raise AdvisorError(
            f"several workers need a writable temporary directory (TMPDIR) for their "
            f"metrics: {error}"
        ) from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Supervisor:
    def __init__(self, count: int, work: Callable[[], None]) -> None:
        self.count = count
        self.work = work
        self.children: dict[int, float] = {}  # pid -> when it started
        self.deaths: list[float] = []
        self.stopping = False

    def run(self) -> int:
        """Until SIGTERM (0 when every worker then exited cleanly) or a crash loop (1)."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._stop)
        gc.freeze()  # what the parent built stays in shared pages, untouched by the collector
        for _ in range(self.count):
            self._spawn()
        clean = True
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            self.children.pop(pid, None)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                clean = clean and code == 0
                continue
            log.error("worker %d exited with %d; starting another", pid, code)
            if self._crash_looping():
                log.error("workers keep exiting at start; stopping the service")
                self._stop(signal.SIGTERM, None)
                clean = False
                continue
            self._spawn()
        return 0 if clean else 1

    def _spawn(self) -> None:
        # Signals wait until the worker has its own handlers: run by the parent's handler, a
        # SIGTERM just after the fork would have the new worker signal its siblings.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        supervisor = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            raise
        if pid == 0:  # the worker: never returns into the parent's code
            code = 1
            try:
                # Stopped while still starting: leave at once. `work` replaces this handler
                # with its server's own before it serves.
                for sig in STOP_SIGNALS:
                    signal.signal(sig, _exit_now)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                _stop_when_orphaned(supervisor)
                self.work()
                code = 0
            except SystemExit as stop:
                code = 0 if stop.code in (0, None) else 1
            except BaseException:
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = time.monotonic()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def _crash_looping(self) -> bool:
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < CRASH_WINDOW] + [now]
        return len(self.deaths) >= CRASH_LIMIT

    def _stop(self, signum: int, frame: object) -> None:
        if not self.stopping:
            log.info("signal %d: stopping %d worker(s)", signum, len(self.children))
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _stop_when_orphaned(supervisor: int, every: float = ORPHAN_CHECK_SECONDS) -> None:
    """A worker whose supervisor died (SIGKILL, the OOM killer) stops itself as SIGTERM
    would stop it, instead of serving on unsupervised: it is re-parented, so its parent's pid
    changes (gunicorn's workers watch for the same)."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(every)
        log.warning("the supervisor (pid %d) is gone; stopping this worker", supervisor)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()
