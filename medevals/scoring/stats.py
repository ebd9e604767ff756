"""Confidence intervals and summary statistics, dependency-free and deterministic.

Binary outcomes (accuracy) get a Wilson score interval, which behaves at 0% and 100% and
on small n; other means get a seeded percentile bootstrap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean(
    values: Sequence[float], *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    vals = list(values)
    n = len(vals)
    if n == 0:
        return (math.nan, math.nan)
    if n == 1:
        return (vals[0], vals[0])
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(vals, k=n)) / n for _ in range(n_boot))
    lo = means[math.floor(alpha / 2 * (n_boot - 1))]
    hi = means[math.ceil((1 - alpha / 2) * (n_boot - 1))]
    return (lo, hi)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def mean_ci(values: Sequence[float], *, seed: int = 0) -> dict[str, float | int | str]:
    """Mean with a 95% CI: Wilson for 0/1 values, bootstrap otherwise."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "ci_method": "none"}
    mean = sum(vals) / n
    if is_binary(vals):
        lo, hi = wilson(sum(vals), n)
        method = "wilson"
    else:
        lo, hi = bootstrap_mean(vals, seed=seed)
        method = "bootstrap"
    return {"value": mean, "ci_low": lo, "ci_high": hi, "n": n, "ci_method": method}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100])."""
    vals = sorted(values)
    if not vals:
        return math.nan
    k = (len(vals) - 1) * q / 100
    f, c = math.floor(k), math.ceil(k)
    if f == c:
        return vals[int(k)]
    return vals[f] + (vals[c] - vals[f]) * (k - f)
