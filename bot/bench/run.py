"""Run every measurement of `advisor bench` and compare it with its targets.

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
    facts_factor: int  # matching is also measured with this many times the facts
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
            facts_factor=10,
            events=100_000,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            requests=60,
            throughput_seconds=3,
            conversations=10_000,
            turns=300,
            facts_factor=10,
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
    """Real messages, as long as people write them: the corpus and the first labelled set."""
    import yaml

    paths = [*sorted(Path("tests/data/corpus").glob("*.yaml")), Path("tests/data/questions.yaml")]
    found: list[str] = []
    for path in paths:
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            found += [q["q"] for key in ("in_scope", "out_of_scope") for q in data.get(key, [])]
    if found:
        return found
    return [  # installed without the repository: a built-in sample
        "is fastapi faster?",
        "does flask support websockets",
        "swagger in flask?",
        "hello",
        "how do i set a cookie in flask",
        "jinja in fastapi",
    ] * 50


def _command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("advisor")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "bot", *args]


def _startup(runs: int = 7) -> dict[str, float]:
    """`advisor ask "docs?"` beside `python -c "import pydantic_settings, yaml, rapidfuzz"`,
    run alternately (their order reversed each round), as whole processes: the ratio of the
    medians holds across machines whose absolute times differ."""
    ours, base = _command("ask", "docs?"), [sys.executable, "-c", BASELINE_IMPORTS]
    seconds: dict[str, list[float]] = {"ask": [], "imports": []}
    for n in range(runs):
        pair = [("ask", ours), ("imports", base)]
        for name, argv in pair if n % 2 else reversed(pair):
            begin = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True, timeout=60)
            seconds[name].append(time.perf_counter() - begin)
    ask, imports = statistics.median(seconds["ask"]), statistics.median(seconds["imports"])
    return {
        "ask_s": round(ask, 3),
        "imports_s": round(imports, 3),
        "ratio": round(ask / imports, 2),
    }


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


BASELINE_IMPORTS = "import pydantic_settings, yaml, rapidfuzz"


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
    results["startup"] = _startup()
    progress("matching")
    results["matching_ms"] = matching.matching(
        load_knowledge(), _questions(), plan.facts_factor, progress
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
    return [
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
        Target(
            f"matching p99, {r['plan']['facts_factor']}x the facts",
            r["matching_ms"][f"{r['plan']['facts_factor']}x facts"]["p99"],
            1.0,
            "ms",
        ),
        Target('`advisor ask "docs?"` vs importing its libraries', r["startup"]["ratio"], 1.3, "x"),
        Target("`advisor serve` memory, all workers (PSS)", r["serve_memory"]["pss_mb"], 100, "MB"),
        Target(
            "Redis bytes per conversation",
            r["stores"]["redis"]["bytes_per_conversation"],
            1024,
            "B",
        ),
    ]
