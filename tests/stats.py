"""Two small statistics for timing comparisons that do not depend on the machine's
speed: a rank test between two samples and a summary in milliseconds."""

from __future__ import annotations

import math
import statistics


def mann_whitney(a: list[float], b: list[float]) -> float:
    """The two-sided p-value of the Mann-Whitney U test that `a` and `b` come from one
    distribution (normal approximation with the tie correction; fine from ~20 samples
    each). Ranks only: a machine twice as slow moves both samples alike."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        size = j - i + 1
        ties += size**3 - size
        i = j + 1
    n1, n2 = len(a), len(b)
    n = n1 + n2
    r1 = sum(rank for rank, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    u = r1 - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    if sd == 0:
        return 1.0
    z = (abs(u - mean) - 0.5) / sd  # with continuity correction
    return max(0.0, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))


def summary(seconds: list[float]) -> str:
    """Median, interquartile range and count, in milliseconds."""
    q1, median, q3 = statistics.quantiles(seconds, n=4)
    return (
        f"median {median * 1000:.3f} ms, IQR {q1 * 1000:.3f}-{q3 * 1000:.3f} ms (n={len(seconds)})"
    )
