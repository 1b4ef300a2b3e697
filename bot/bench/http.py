"""Side by side over real HTTP: the advisor and Bolt's minimal app, request by request.

Reply latency runs from sending a signed `app_mention` until the threaded chat.postMessage
reaches the loopback Slack Web API (its arrival time, recorded by the server); ack latency is
the HTTP round trip of `/advisor <question>`; throughput is replies per second from 8
concurrent senders over a fixed time, with every request accounted for.
"""

from __future__ import annotations

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

    def __init__(self, sender: SlackSender, prefix: str = "", since: int = 0) -> None:
        self.sender = sender
        self.since = since  # calls the loopback API had recorded before these mentions
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
        """The replies to the accepted mentions, once all arrived or `timeout` passed.

        Looked for 20 times a second among the calls since the mentions began: the loopback
        API shares this process, and scanning every call ever made at every arrival slowed
        its answers to the app being measured while its backlog drained."""
        wanted = set(self.accepted)

        def answered() -> list[Any]:
            return [
                c
                for c in api.calls_since(self.since)
                if c.method == "chat.postMessage"
                and c.status == 200
                and c.params.get("channel") in wanted
            ]

        deadline = time.monotonic() + timeout
        found = answered()
        while len(found) < len(wanted) and time.monotonic() < deadline:
            time.sleep(0.05)
            found = answered()
        return found


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
    """Reply latency, then ack latency, each alternating between the apps request by request,
    the order reversed every round.

    Which request comes just before one shapes it on this shared machine: interleaving the
    acks (the minimal app's sleeps 10 ms in Bolt's ack polling, ours does the command's work)
    made two identical advisors measure apart depending on which one followed the minimal app
    (the README's Performance section has the figures). Reversed rounds give every app each
    predecessor equally often.
    """
    senders = {name: SlackSender(server.base, SECRET) for name, server in apps.items()}
    for sender in senders.values():  # warm up both: imports, connections, caches
        for _ in range(20):
            _reply_seconds(api, sender)
            _ack_seconds(api, sender)
    reply: dict[str, list[float]] = {name: [] for name in apps}
    ack: dict[str, list[float]] = {name: [] for name in apps}
    names = list(senders)
    for measure, into, what in ((_reply_seconds, reply, "reply"), (_ack_seconds, ack, "ack")):
        for i in range(requests):
            for name in _in_turn(names, i):
                into[name].append(measure(api, senders[name]))
            if i % 25 == 0:
                progress(f"{what} latency {i}/{requests}")
    return {
        "reply_latency_ms": {name: summary_ms(v) for name, v in reply.items()},
        "ack_latency_ms": {name: summary_ms(v) for name, v in ack.items()},
    }


def _in_turn(names: list[str], round_: int) -> list[str]:
    return names if round_ % 2 == 0 else names[::-1]


def alternating_throughput(
    api: FakeSlackAPI, apps: dict[str, Server], seconds: float, rounds: int, progress: Progress
) -> dict[str, dict[str, float]]:
    """`throughput` for each app in turns of seconds/rounds, the order reversed every round,
    summed: a shared machine that slows down for a while slows both apps, not the one whose
    turn it happened to be (one 10 s run each put the ratio anywhere from 0.8 to 1.2)."""
    totals: dict[str, dict[str, float]] = {
        name: {"seconds": 0.0, "sent": 0, "replied": 0, "duplicates": 0, "errors": 0}
        for name in apps
    }
    names = list(apps)
    for round_ in range(rounds):
        progress(f"throughput, round {round_ + 1}/{rounds}")
        for name in _in_turn(names, round_):
            part = throughput(api, apps[name], seconds / rounds)
            for field in ("seconds", "sent", "replied", "duplicates", "errors"):
                totals[name][field] += part[field]
    return {
        name: {
            "replies_per_s": round(t["replied"] / max(t["seconds"], 1e-9), 1),
            **{k: int(t[k]) for k in ("sent", "replied", "duplicates", "errors")},
        }
        for name, t in totals.items()
    }


def throughput(
    api: FakeSlackAPI, server: Server, seconds: float, senders: int = 8
) -> dict[str, float]:
    mentions = Mentions(SlackSender(server.base, SECRET), since=api.call_count())
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
        "seconds": last - started,  # until the last reply: a backlog left to drain counts
        "sent": len(mentions.accepted),
        "replied": len(answered),
        "duplicates": len(replies) - len(answered),
        "errors": mentions.errors,
    }
