"""Run every measurement of `advisor bench` and compare it with the targets of issue 6.

Ratios (advisor / minimal Bolt app) hold on a noisy 2-core machine because both apps are
measured in the same run, alternating request by request; absolute figures are for the README.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bench import http, matching, stores, usage
from bot.bench.processes import advisor_server, minimal_bolt_server
from bot.kb.loader import load_knowledge
from bot.loopback.slack_api import FakeSlackAPI

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    requests: int
    throughput_seconds: float  # per app, in `throughput_rounds` alternating turns
    conversations: int
    turns: int
    sizes: tuple[int, ...]
    events: int = 10_000  # in the usage record `advisor stats` reads
    throughput_rounds: int = 2

    @classmethod
    def full(cls) -> Plan:
        return cls(
            requests=300,
            throughput_seconds=20,
            throughput_rounds=5,
            conversations=100_000,
            turns=2000,
            sizes=(10_000, 100_000),
            events=100_000,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            requests=60, throughput_seconds=3, conversations=10_000, turns=300, sizes=(10_000,)
        )


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float
    unit: str
    at_most: bool = True

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "target": self.limit,
            "unit": self.unit,
            "at_most": self.at_most,
            "met": self.met,
        }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _questions() -> list[str]:
    import yaml

    path = Path("tests/data/questions.yaml")
    if not path.is_file():  # installed without the repository: a built-in sample
        return [
            "is fastapi faster?",
            "does flask support websockets",
            "swagger in flask?",
            "hello",
            "how do i set a cookie in flask",
            "jinja in fastapi",
        ] * 50
    data = yaml.safe_load(path.read_text())
    return [q["q"] for q in data["in_scope"]] + [q["q"] for q in data["out_of_scope"]]


def _startup_seconds(runs: int = 5) -> float:
    script = Path(sys.executable).with_name("advisor")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    seconds = []
    for _ in range(runs):
        begin = time.perf_counter()
        subprocess.run([*argv, "ask", "docs?"], capture_output=True, check=True, timeout=60)
        seconds.append(time.perf_counter() - begin)
    return statistics.median(seconds)


def _one_worker(api: FakeSlackAPI, directory: Path, plan: Plan) -> dict[str, Any]:
    """`ADVISOR_WORKERS=1`: what one process does, for sizing (the default runs one per CPU)."""
    server = advisor_server(
        api.url,
        f"sqlite:///{directory}/one.sqlite3",
        directory / "one.log",
        ADVISOR_WORKERS="1",
    )
    try:
        server.ready(health="/healthz")
        put = http.throughput(api, server, plan.throughput_seconds)
        return {"throughput": put, "memory": server.memory_mb()}
    finally:
        server.stop()


def run(plan: Plan, redis_url: str, progress: Progress) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "plan": plan.__dict__}
    api = FakeSlackAPI().start()
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        advisor = advisor_server(
            api.url, f"sqlite:///{directory}/advisor.sqlite3", directory / "advisor.log"
        )
        bolt = minimal_bolt_server(api.url, directory / "bolt.log")
        try:
            advisor.ready()
            bolt.ready()
            apps = {"advisor": advisor, "bolt": bolt}
            progress("reply and ack latency")
            results.update(http.latencies(api, apps, plan.requests, progress))
            results["throughput"] = http.alternating_throughput(
                api, apps, plan.throughput_seconds, plan.throughput_rounds, progress
            )
            results["serve_memory"] = advisor.memory_mb()
            results["serve_peak_rss_mb"] = results["serve_memory"]["largest_peak_rss_mb"]
            advisor.stop()
            progress("throughput: advisor, one worker")
            results["one_worker"] = _one_worker(api, directory, plan)
        finally:
            advisor.stop()
            bolt.stop()
            api.stop()
    progress("start-up")
    results["startup_s"] = round(_startup_seconds(), 3)
    progress("matching")
    results["matching_ms"] = matching.matching(
        load_knowledge(), _questions(), list(plan.sizes), progress
    )
    progress("stores")
    results["stores"] = {
        "sqlite": stores.sqlite(plan.conversations, plan.turns, progress),
        "redis": stores.redis_store(redis_url, plan.conversations, plan.turns, progress),
    }
    results["usage_record"] = usage.usage_record(load_knowledge(), plan.events, redis_url, progress)
    results["targets"] = [t.as_json() for t in targets(results)]
    return results


def targets(r: dict[str, Any]) -> list[Target]:
    reply, ack, put = r["reply_latency_ms"], r["ack_latency_ms"], r["throughput"]
    found = [
        Target(
            "reply latency p50 vs Bolt",
            round(reply["advisor"]["p50"] / reply["bolt"]["p50"], 2),
            1.25,
            "x",
        ),
        Target(
            "reply latency p99 vs Bolt",
            round(reply["advisor"]["p99"] / reply["bolt"]["p99"], 2),
            1.5,
            "x",
        ),
        Target(
            "ack latency p50 vs Bolt",
            round(ack["advisor"]["p50"] / ack["bolt"]["p50"], 2),
            0.3,
            "x",
        ),
        Target(
            "throughput vs Bolt",
            round(put["advisor"]["replies_per_s"] / max(put["bolt"]["replies_per_s"], 1e-9), 2),
            1.0,
            "x",
            at_most=False,
        ),
        Target(
            "requests lost under load",
            put["advisor"]["sent"]
            - put["advisor"]["replied"]
            + put["advisor"]["duplicates"]
            + put["advisor"]["errors"],
            0,
            "",
        ),
        Target("matching p99, bundled KB", r["matching_ms"]["bundled"]["p99"], 0.3, "ms"),
        Target('`advisor ask "docs?"` whole process', r["startup_s"], 0.6, "s"),
        Target("`advisor serve` memory, all workers (PSS)", r["serve_memory"]["pss_mb"], 100, "MB"),
        Target(
            "Redis bytes per conversation",
            r["stores"]["redis"]["bytes_per_conversation"],
            1024,
            "B",
        ),
    ]
    largest = r["matching_ms"].get("100000")
    if largest:
        found.insert(6, Target("matching p99, 100,000 phrasings", largest["p99"], 5, "ms"))
    return found
