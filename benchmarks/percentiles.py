"""How the benchmarks summarise timings: the median and the 95th percentile."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def median_and_p95(values: Iterable[float]) -> tuple[float, float]:
    """The median, and the 95th percentile as the value at rank ``floor(0.95 * (n - 1))``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
