"""Percentiles, the way the bench reports them (nearest rank, in milliseconds)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(seconds, 0.50) * 1000, 3),
        "p99": round(percentile(seconds, 0.99) * 1000, 3),
        "n": len(seconds),
    }
