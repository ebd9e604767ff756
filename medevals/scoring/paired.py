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


def _binom_half(k: int, n: int) -> tuple[float, float]:
    """(P(X <= k), P(X = k)) for X ~ Binomial(n, 1/2), k <= n/2, in floats (log space).

    Exact integer sums grow as n; in logs the terms are summed from the largest (X = k) down,
    so a run with tens of thousands of discordant pairs costs microseconds, not seconds.
    """
    if n == 0:
        return 1.0, 1.0
    log_half_n = n * math.log(0.5)

    def log_pmf(i: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n

    top = log_pmf(k)
    total, term, i = 1.0, 1.0, k
    while i > 0:  # pmf(i-1) / pmf(i) = i / (n - i + 1)
        term *= i / (n - i + 1)
        total += term
        i -= 1
        if term < 1e-17 * total:
            break
    return min(1.0, math.exp(top) * total), math.exp(top)


def mcnemar_exact_midp(b: int, c: int) -> tuple[float, float]:
    """(exact, mid-p) two-sided p-values of McNemar's test for discordant counts b and c.

    The exact test is the binomial test of min(b, c) in b + c trials at 1/2; it is conservative,
    and the mid-p version (exact minus the point probability of the observed count, Fagerland,
    Lydersen & Laake 2013, BMC Med Res Methodol 13:91) keeps its validity with much better
    power. Both are reported: the exact one is the classical, most-cited test.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0, 1.0
    k = min(b, c)
    cdf, point = _binom_half(k, n)
    return min(1.0, 2 * cdf), min(1.0, max(0.0, 2 * cdf - point))


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


@dataclass(frozen=True)
class PairedDifference:
    """The difference B - A of one metric over units both runs scored, with its 95% CI.

    ``n`` paired units, ``n_clusters`` independent items (repeats of an item are one cluster).
    For a proportion: ``only_a`` / ``only_b`` discordant counts and McNemar's exact and mid-p
    p-values (None when an item has several repeats: the test needs independent pairs).
    """

    n: int
    n_clusters: int
    mean_a: float
    mean_b: float
    delta: float
    ci_low: float
    ci_high: float
    only_a: int | None = None
    only_b: int | None = None
    p_exact: float | None = None
    p_midp: float | None = None


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    *,
    proportion: bool,
    clusters: Sequence[str] | None = None,
    seed: int = 0,
) -> PairedDifference:
    """Paired comparison of the same units under A and B (two models, two strategies).

    The CI is a percentile bootstrap of the mean difference that resamples clusters (items:
    the repeats of one item move together), so a within-item correlation never narrows it; with
    one unit per item that is the ordinary paired bootstrap. A proportion also gets McNemar's
    test over its discordant pairs (exact and mid-p).
    """
    if len(a) != len(b) or (clusters is not None and len(clusters) != len(a)):
        raise ValueError(f"paired values differ in length: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        nan = math.nan
        return PairedDifference(0, 0, nan, nan, nan, nan, nan)
    keys = list(clusters) if clusters is not None else [str(i) for i in range(n)]
    sums: dict[str, list[float]] = {}
    for k, x, y in zip(keys, a, b, strict=True):
        acc = sums.setdefault(k, [0.0, 0.0])
        acc[0] += float(y) - float(x)
        acc[1] += 1
    groups = list(sums.values())
    balanced = len({g[1] for g in groups}) == 1
    if balanced:  # equal repeats per item: resampling item means is the cluster bootstrap exactly
        lo, hi = bootstrap_mean([s / m for s, m in groups], seed=seed)
    else:
        lo, hi = _cluster_bootstrap(groups, seed=seed)
    mean_a, mean_b = math.fsum(a) / n, math.fsum(b) / n
    out = PairedDifference(
        n=n,
        n_clusters=len(groups),
        mean_a=mean_a,
        mean_b=mean_b,
        delta=mean_b - mean_a,
        ci_low=lo,
        ci_high=hi,
    )
    if not proportion:
        return out
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x >= 0.5 > y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y >= 0.5 > x)
    p_exact = p_mid = None
    if len(groups) == n:  # one pair per item: McNemar's independence holds
        p_exact, p_mid = mcnemar_exact_midp(only_a, only_b)
    return PairedDifference(
        **{**out.__dict__, "only_a": only_a, "only_b": only_b, "p_exact": p_exact, "p_midp": p_mid}
    )


def _cluster_bootstrap(
    groups: list[list[float]], *, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile CI of sum(diffs) / sum(units) over clusters drawn with replacement."""
    import random

    groups = sorted(groups)  # a function of the values, not of their order
    if len(groups) == 1:
        m = groups[0][0] / groups[0][1]
        return m, m
    rng = random.Random(seed)
    stats = []
    for _ in range(n_boot):
        draw = rng.choices(groups, k=len(groups))
        stats.append(sum(g[0] for g in draw) / sum(g[1] for g in draw))
    stats.sort()
    return stats[math.floor(0.025 * (n_boot - 1))], stats[math.ceil(0.975 * (n_boot - 1))]
