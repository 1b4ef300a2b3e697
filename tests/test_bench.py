"""`advisor bench` runs end to end and reports every figure its targets need. (It measures;
it does not judge: the targets are checked by the bench itself, never by a timed test.)"""

from __future__ import annotations

import json

import pytest

from bot.bench.report import table
from bot.bench.run import Plan, run

BENCH_REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    plan = Plan(
        requests=5,
        throughput_seconds=1,
        conversations=500,
        turns=20,
        facts_factor=3,
        events=2000,
    )
    return run(plan, BENCH_REDIS, lambda message: None)


def test_every_figure_is_there(results: dict[str, object]) -> None:
    r: dict[str, object] = json.loads(json.dumps(results))  # one JSON object, as --json prints
    for app in ("advisor", "bolt"):
        for figure in ("reply_latency_ms", "ack_latency_ms"):
            row = r[figure][app]  # type: ignore[index]
            assert row["n"] == 5
            assert 0 < row["p50"] <= row["p99"]
        put = r["throughput"][app]  # type: ignore[index]
        assert put["sent"] == put["replied"] > 0
        assert put["duplicates"] == 0
    matching = r["matching_ms"]
    assert {"bundled", "bundled, first sight", "3x facts"} <= set(matching)  # type: ignore[arg-type]
    bundled, wide = matching["bundled"], matching["3x facts"]  # type: ignore[index]
    assert wide["classes"] - bundled["classes"] == 2 * 19
    assert 0 < bundled["p50"] <= bundled["p99"]
    for store in ("sqlite", "redis"):
        assert r["stores"][store]["bytes_per_conversation"] > 0  # type: ignore[index]
    usage = r["usage_record"]
    assert usage["events"] == 2000  # type: ignore[index]
    assert usage["stats_s"] > 0  # type: ignore[index]
    assert usage["sqlite_bytes_per_event"] > 0  # type: ignore[index]
    assert usage["redis_bytes_per_event"] > 0  # type: ignore[index]
    startup = r["startup"]
    assert 0 < startup["imports_s"] < startup["ask_s"] < 10  # type: ignore[index]
    ratio = startup["ask_s"] / startup["imports_s"]  # type: ignore[index]
    assert abs(startup["ratio"] - ratio) < 0.02  # type: ignore[index]
    assert 0 < r["serve_peak_rss_mb"] < 1000  # type: ignore[operator]
    memory = r["serve_memory"]
    assert memory["processes"] >= 1  # type: ignore[index]
    # PSS splits the pages the workers share with their parent; summed RSS counts them again.
    assert 0 < memory["pss_mb"] <= memory["summed_peak_rss_mb"]  # type: ignore[index]
    one = r["one_worker"]
    assert one["memory"]["processes"] == 1  # type: ignore[index]
    assert one["throughput"]["replied"] == one["throughput"]["sent"] > 0  # type: ignore[index]
    names = [t["name"] for t in r["targets"]]  # type: ignore[union-attr]
    assert len(names) == 10
    assert all(isinstance(t["met"], bool) for t in r["targets"])  # type: ignore[union-attr]


def test_the_table_shows_both_apps_and_every_target(results: dict[str, object]) -> None:
    text = table(results)  # type: ignore[arg-type]
    assert "minimal Bolt" in text
    assert "3x facts" in text
    assert "importing its libraries" in text
    assert "usage record, 2,000 events: `advisor stats`" in text
    assert text.count("[met ]") + text.count("[MISS]") == 10


def test_a_short_soak_answers_everything_once() -> None:
    from bot.bench.soak import soak

    result = soak(3, 20, "redis://127.0.0.1:6379/10", lambda message: None)
    assert result["sent"] >= 50
    assert result["answered"] == result["accepted"] == result["sent"]
    assert result["duplicates"] == 0
    assert result["errors"] == 0
    assert result["clean_exit"] is True
    assert result["rss_mb"]
