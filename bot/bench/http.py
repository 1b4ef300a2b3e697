"""Side by side over real HTTP: the advisor and Bolt's minimal app, request by request.

Reply latency runs from sending a signed `app_mention` until the threaded chat.postMessage
reaches the loopback Slack Web API (its arrival time, recorded by the server); ack latency is
the HTTP round trip of `/advisor <question>`; throughput is replies per second from 8
concurrent senders over a fixed time, with every request accounted for.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.bench.processes import Server
from bot.bench.stats import summary_ms
from bot.loopback.requests import SECRET, SlackSender, unique
from bot.loopback.slack_api import FakeSlackAPI

Progress = Callable[[str], None]
QUESTION = "is fastapi faster than flask?"


def _mention(channel: str, text: str = QUESTION, prefix: str = "") -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": unique(f"UB{prefix}"),  # each request from another user, as in a workspace
        "channel": channel,
        "ts": "1700000000.000100",
        "text": f"<@UADVISOR> {text}",
    }


class Mentions:
    """Sends mentions, each in a channel of its own, from any number of threads, and then
    accounts for every one: answered, answered twice, or lost."""

    def __init__(self, sender: SlackSender, prefix: str = "") -> None:
        self.sender = sender
        self.prefix = prefix  # makes ids unique across runs on one store
        self.accepted: list[str] = []
        self.errors = 0
        self._lock = threading.Lock()

    def send(self, text: str = QUESTION) -> None:
        channel = unique(f"C{self.prefix}")
        event_id = unique(f"Ev{self.prefix}")
        try:
            ok = self.sender.event(_mention(channel, text, self.prefix), event_id=event_id)[0]
        except OSError:
            ok = 0
        with self._lock:
            if ok == 200:
                self.accepted.append(channel)
            else:
                self.errors += 1

    def replies(self, api: FakeSlackAPI, timeout: float) -> list[Any]:
        """The replies to the accepted mentions, once all arrived or `timeout` passed."""
        wanted = set(self.accepted)

        def answered() -> list[Any]:
            return [
                c for c in api.calls_to("chat.postMessage") if c.params.get("channel") in wanted
            ]

        with contextlib.suppress(AssertionError):  # what never came is counted by the caller
            api.wait_until(lambda: len(answered()) >= len(wanted), timeout=timeout)
        return answered()


def _reply_seconds(api: FakeSlackAPI, sender: SlackSender) -> float:
    channel = unique("CB")
    started = time.monotonic()
    status = sender.event(_mention(channel))[0]
    if status != 200:
        raise RuntimeError(f"mention answered {status}")
    (post,) = api.wait_for("chat.postMessage", channel=channel, timeout=30)[:1]
    return post.at - started


def _ack_seconds(api: FakeSlackAPI, sender: SlackSender) -> float:
    name = unique("ack")
    status, _, seconds = sender.command(
        QUESTION, user=unique("UB"), response_url=api.response_url(name)
    )
    if status != 200:
        raise RuntimeError(f"command answered {status}")
    api.responses(name, timeout=30)  # the work after the ack, before the next request
    return seconds


def latencies(
    api: FakeSlackAPI, apps: dict[str, Server], requests: int, progress: Progress
) -> dict[str, dict[str, dict[str, float]]]:
    senders = {name: SlackSender(server.base, SECRET) for name, server in apps.items()}
    for sender in senders.values():  # warm up both: imports, connections, caches
        for _ in range(20):
            _reply_seconds(api, sender)
            _ack_seconds(api, sender)
    reply: dict[str, list[float]] = {name: [] for name in apps}
    ack: dict[str, list[float]] = {name: [] for name in apps}
    for i in range(requests):
        for name, sender in senders.items():  # alternating, request by request
            reply[name].append(_reply_seconds(api, sender))
            ack[name].append(_ack_seconds(api, sender))
        if i % 25 == 0:
            progress(f"latency {i}/{requests}")
    return {
        "reply_latency_ms": {name: summary_ms(v) for name, v in reply.items()},
        "ack_latency_ms": {name: summary_ms(v) for name, v in ack.items()},
    }


def throughput(
    api: FakeSlackAPI, server: Server, seconds: float, senders: int = 8
) -> dict[str, float]:
    mentions = Mentions(SlackSender(server.base, SECRET))
    stop_at = time.monotonic() + seconds

    def send() -> None:
        while time.monotonic() < stop_at:
            mentions.send()

    started = time.monotonic()
    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replies = mentions.replies(api, timeout=60)
    answered = {c.params["channel"] for c in replies}
    last = max((c.at for c in replies), default=started + seconds)
    return {
        "replies_per_s": round(len(replies) / max(last - started, 1e-9), 1),
        "sent": len(mentions.accepted),
        "replied": len(answered),
        "duplicates": len(replies) - len(answered),
        "errors": mentions.errors,
    }
