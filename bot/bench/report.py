"""The bench as a readable table, and a progress line while it runs."""

from __future__ import annotations

import sys
from typing import Any


def progress(message: str) -> None:
    """One status line, rewritten in place (only on a terminal: logs stay clean)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K[bench] {message}")
        sys.stderr.flush()


def done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def table(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['system']}", ""]
    reply, ack, put = r["reply_latency_ms"], r["ack_latency_ms"], r["throughput"]
    lines += [
        f"{'':34}{'advisor':>14}{'minimal Bolt':>14}",
        f"{'reply latency p50 / p99 (ms)':34}"
        f"{reply['advisor']['p50']:>7.2f} /{reply['advisor']['p99']:>5.1f}"
        f"{reply['bolt']['p50']:>7.2f} /{reply['bolt']['p99']:>5.1f}",
        f"{'ack latency p50 / p99 (ms)':34}"
        f"{ack['advisor']['p50']:>7.2f} /{ack['advisor']['p99']:>5.1f}"
        f"{ack['bolt']['p50']:>7.2f} /{ack['bolt']['p99']:>5.1f}",
        f"{'throughput, 8 senders (replies/s)':34}"
        f"{put['advisor']['replies_per_s']:>14.1f}{put['bolt']['replies_per_s']:>14.1f}",
        f"{'  sent / replied / duplicates':34}"
        f"{_counts(put['advisor']):>14}{_counts(put['bolt']):>14}",
    ]
    one = r.get("one_worker")
    if one:
        lines += [
            f"{'  advisor, ADVISOR_WORKERS=1':34}{one['throughput']['replies_per_s']:>14.1f}"
            f"  ({_counts(one['throughput'])}; {one['memory']['pss_mb']:.0f} MB)",
        ]
    lines += [
        "",
        f"{'matching (messages up to 120 words)':34}{'p50 ms':>10}{'p99 ms':>10}{'classes':>10}",
    ]
    for name, row in r["matching_ms"].items():
        classes = f"{row['classes']:>10}" if "classes" in row else ""
        lines.append(f"  {name:32}{row['p50']:>10.3f}{row['p99']:>10.3f}{classes}")
    lines += ["", f"{'store':34}{'B/conv':>10}{'turn p50':>10}{'turn p99':>10}"]
    for name, row in r["stores"].items():
        lines.append(
            f"  {name:32}{row['bytes_per_conversation']:>10}"
            f"{row['turn_p50_ms']:>10.3f}{row['turn_p99_ms']:>10.3f}"
        )
    usage, mem = r["usage_record"], r["serve_memory"]
    lines += [
        "",
        f"usage record, {usage['events']:,} events: `advisor stats` {usage['stats_s']:.2f} s; "
        f"{usage['sqlite_bytes_per_event']} B/event in SQLite, "
        f"{usage['redis_bytes_per_event']} B/event in Redis",
    ]
    lines += [
        "",
        f'start-up, `advisor ask "docs?"`: {r["startup"]["ask_s"]:.3f} s; importing its '
        f"libraries (pydantic_settings, yaml, rapidfuzz): {r['startup']['imports_s']:.3f} s "
        f"({r['startup']['ratio']:.2f}x)",
        f"`advisor serve` memory, {mem['processes']} processes: {mem['pss_mb']:.1f} MB PSS "
        f"(largest peak RSS {mem['largest_peak_rss_mb']:.1f} MB; peak RSS summed, shared "
        f"pages counted once per process: {mem['summed_peak_rss_mb']:.1f} MB)",
        "",
        "targets:",
    ]
    for t in r["targets"]:
        mark = "met " if t["met"] else "MISS"
        sign = "<=" if t["at_most"] else ">="
        lines.append(
            f"  [{mark}] {t['name']:40} {t['value']:>9g}{t['unit']:<2} {sign} "
            f"{t['target']:g}{t['unit']}"
        )
    return "\n".join(lines)


def _counts(row: dict[str, Any]) -> str:
    return f"{row['sent']}/{row['replied']}/{row['duplicates']}"


def soak_table(r: dict[str, Any]) -> str:
    rss = ", ".join(f"{mb:g}" for mb in r["rss_mb"])
    return "\n".join(
        [
            f"soak: {r['seconds']:g} s at {r['rate_per_s']:g} events/s",
            f"  sent {r['sent']}, accepted {r['accepted']}, answered {r['answered']}, "
            f"duplicates {r['duplicates']}, errors {r['errors']}",
            f"  RSS summed over its processes, every 5 s (MB): {rss}",
            f"  growth after warm-up: {r['rss_growth_after_warmup_mb']:g} MB; "
            f"clean exit: {r['clean_exit']}",
        ]
    )
