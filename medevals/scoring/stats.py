"""Confidence intervals and summary statistics, dependency-free and deterministic.

Binary outcomes (accuracy) get a Wilson score interval, which behaves at 0% and 100% and
on small n; other means get a seeded percentile bootstrap. Which of the two applies is a
property of the metric, declared by the protocol that produces it (``MetricSpec``), not of the
values a run happened to produce: a rubric score that is 0 or 1 on every item is still a score.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["proportion", "continuous"]


@dataclass(frozen=True)
class MetricSpec:
    """How a per-sample value is summarised.

    ``kind``: ``proportion`` (each value is a 0/1 outcome: Wilson interval) or ``continuous``
    (a score: percentile bootstrap, even when every value is 0 or 1). ``clip``: the *mean* and
    its interval bounds are clipped to this range; per-sample values never are (HealthBench
    clips its aggregate to [0, 1] while a conversation's score may be negative).
    """

    kind: MetricKind
    clip: tuple[float, float] | None = None
    #: The range of a value that is not a share (a 1-5 rating): reports print it as a number
    #: on this scale instead of a percentage, and its CI bar spans the scale.
    scale: tuple[float, float] | None = None


PROPORTION = MetricSpec("proportion")
CONTINUOUS = MetricSpec("continuous")

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
    # Sorted: the interval is a function of the values, not of the order they were stored in
    # (samples are written in completion order).
    vals = sorted(values)
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


def mean_ci(
    values: Sequence[float], *, seed: int = 0, spec: MetricSpec | None = None
) -> dict[str, float | int | str | list[float]]:
    """Mean with a 95% CI: Wilson for a proportion, bootstrap for a continuous score.

    Without a ``spec`` the kind is inferred (0/1 values: Wilson), which is right only for values
    that cannot be anything but 0 or 1; protocols declare their metrics (``Protocol.metric_spec``).
    """
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "ci_method": "none"}
    mean = math.fsum(vals) / n  # exact sum: the same mean in any sample order
    proportion = is_binary(vals) if spec is None else spec.kind == "proportion"
    if proportion and spec is not None and not is_binary(vals):
        raise ValueError("a metric declared a proportion has values other than 0 and 1")
    if proportion:
        lo, hi = wilson(sum(vals), n)
        method = "wilson"
    else:
        lo, hi = bootstrap_mean(vals, seed=seed)
        method = "bootstrap"
    out: dict[str, float | int | str | list[float]] = {
        "value": mean,
        "ci_low": lo,
        "ci_high": hi,
        "n": n,
        "ci_method": method,
    }
    if spec is not None and spec.scale is not None:
        out["scale"] = [spec.scale[0], spec.scale[1]]
    if spec is not None and spec.clip is not None:
        a, b = spec.clip
        # Clipping is monotone: the percentiles of clipped bootstrap means are the clipped percentiles.
        out.update(value=min(b, max(a, mean)), ci_low=min(b, max(a, lo)), ci_high=min(b, max(a, hi)))
        out["clipped_to"] = [a, b]
        out["unclipped_value"] = mean
    return out


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
