"""Paired comparisons of two conditions on the same items: McNemar's test and a paired CI of the delta.

Robustness probes answer each item twice (original vs perturbed). Treating the two accuracies
as independent would waste the pairing; McNemar's test uses only the discordant pairs and the
difference gets a bootstrap CI over items (``scoring.stats.bootstrap_mean``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from medevals.scoring.stats import bootstrap_mean


def _binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n trials at p = 0.5."""
    if n == 0:
        return 1.0
    k = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar(b: int, c: int, *, exact: bool | None = None) -> float:
    """p-value of McNemar's test for discordant counts b (only A right) and c (only B right).

    Exact binomial test when ``b + c < 25`` (or ``exact=True``), else the chi-square statistic
    with continuity correction, ``(|b - c| - 1)^2 / (b + c)`` on 1 degree of freedom.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    if exact if exact is not None else n < 25:
        return _binom_two_sided(b, n)
    stat = (abs(b - c) - 1) ** 2 / n
    return math.erfc(math.sqrt(stat / 2))  # survival function of chi2(1)


@dataclass(frozen=True)
class PairedResult:
    n: int
    acc_a: float
    acc_b: float
    delta: float  # acc_b - acc_a
    ci_low: float
    ci_high: float
    b: int  # A right, B wrong
    c: int  # A wrong, B right
    p_value: float


def paired_compare(a: Sequence[float], b: Sequence[float], *, seed: int = 0) -> PairedResult:
    """Compare 0/1 outcomes of the same items under condition A (baseline) and B."""
    if len(a) != len(b):
        raise ValueError(f"paired outcomes differ in length: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        return PairedResult(0, math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0, 1.0)
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x >= 0.5 > y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y >= 0.5 > x)
    diffs = [float(y) - float(x) for x, y in zip(a, b, strict=True)]
    lo, hi = bootstrap_mean(diffs, seed=seed)
    return PairedResult(
        n=n,
        acc_a=sum(a) / n,
        acc_b=sum(b) / n,
        delta=sum(diffs) / n,
        ci_low=lo,
        ci_high=hi,
        b=only_a,
        c=only_b,
        p_value=mcnemar(only_a, only_b),
    )
