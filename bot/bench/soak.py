"""A soak run: `advisor serve --http` on Redis at a steady event rate well above a large
workspace's, for a fixed time (the Redis database given is flushed first). Every event must
be answered exactly once, with no errors, and memory must stay flat after warm-up."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.bench.http import Mentions
from bot.bench.processes import advisor_server
from bot.loopback.requests import SECRET, SlackSender
from bot.loopback.slack_api import FakeSlackAPI
from bot.store.redis import RedisStore

Progress = Callable[[str], None]
QUESTIONS = [
    "is fastapi faster?",
    "does flask support websockets",
    "swagger in flask?",
    "which has more extensions",
    "hello",
    "jinja templates in fastapi",
]


def _flush(url: str) -> None:
    redis = RedisStore.from_url(url)
    redis.client.flushdb()
    redis.close()


def soak(seconds: float, rate: float, store: str, progress: Progress) -> dict[str, Any]:
    """`store` is a Redis database the soak may flush: it starts from an empty one."""
    _flush(store)
    run = uuid.uuid4().hex[:8]  # ids unique across runs too
    api = FakeSlackAPI().start()
    rss: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as work:
        server = advisor_server(api.url, store, Path(work) / "serve.log").ready(health="/healthz")
        mentions = Mentions(SlackSender(server.base, SECRET), prefix=run)
        started = time.monotonic()
        n = 0
        threads: list[threading.Thread] = []
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate)
            while n < due:  # a steady rate: each event sent on its own schedule
                question = QUESTIONS[n % len(QUESTIONS)]
                thread = threading.Thread(target=mentions.send, args=(question,))
                thread.start()
                threads.append(thread)
                n += 1
            if not rss or elapsed - rss[-1][0] >= 5:
                # Summed over the service's processes: a leak in any worker shows.
                rss.append((elapsed, server.memory_mb()["rss_mb"]))
                progress(f"soak {elapsed:.0f}/{seconds:.0f} s, {n} events, RSS {rss[-1][1]:.1f} MB")
            threads = [t for t in threads if t.is_alive()]
            time.sleep(0.005)
        for thread in threads:
            thread.join()
        replies = mentions.replies(api, timeout=30)
        log = (Path(work) / "serve.log").read_text()
        code = server.stop()
    api.stop()
    answered = {c.params["channel"] for c in replies}
    warm = [mb for t, mb in rss if t >= min(20.0, seconds / 3)]
    return {
        "seconds": seconds,
        "rate_per_s": rate,
        "sent": n,
        "accepted": len(mentions.accepted),
        "answered": len(answered),
        "duplicates": len(replies) - len(answered),
        "errors": mentions.errors + log.count('"level": "error"'),
        "rss_mb": [round(mb, 1) for _, mb in rss],
        "rss_growth_after_warmup_mb": round(max(warm) - min(warm), 1) if warm else 0.0,
        "clean_exit": code == 0,
    }
