"""Inter-rater agreement: Cohen's kappa, Fleiss' kappa, ICC(2,1) and macro-F1, with bootstrap CIs.

A judge's verdicts are only worth reporting alongside how far judges (or a judge and human
labels) agree, so these live in one dependency-free module. Undefined statistics (no
variation, no items) are ``nan``, never 0 or 1: a constant rater cannot show agreement.
Bootstrap CIs resample *items* (the unit raters share) with a seeded RNG.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    _same_length(a, b)
    if not a:
        return math.nan
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa for two raters over the same items: (p_o - p_e) / (1 - p_e)."""
    _same_length(a, b)
    n = len(a)
    if n == 0:
        return math.nan
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if pe >= 1.0:
        return math.nan
    return (po - pe) / (1 - pe)


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]]) -> float:
    """Fleiss' kappa: ``ratings[i]`` holds the labels every rater gave item i (same count per item)."""
    if not ratings:
        return math.nan
    n_raters = len(ratings[0])
    if n_raters < 2 or any(len(r) != n_raters for r in ratings):
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every item")
    n_items = len(ratings)
    totals: Counter[Hashable] = Counter()
    p_items = []
    for row in ratings:
        counts = Counter(row)
        totals.update(counts)
        p_items.append((sum(c * c for c in counts.values()) - n_raters) / (n_raters * (n_raters - 1)))
    p_bar = sum(p_items) / n_items
    pe = sum((c / (n_items * n_raters)) ** 2 for c in totals.values())
    if pe >= 1.0:
        return math.nan
    return (p_bar - pe) / (1 - pe)


def icc_2_1(matrix: Sequence[Sequence[float]]) -> float:
    """ICC(2,1) (Shrout & Fleiss): two-way random effects, absolute agreement, single rater.

    ``matrix[i][j]`` is rater j's score of item i. Suits per-item scores from several judges
    (e.g. HealthBench rubric scores), where a judge that is systematically harsher should lower
    agreement, not only one that ranks items differently.
    """
    n = len(matrix)
    if n < 2:
        return math.nan
    k = len(matrix[0])
    if k < 2 or any(len(r) != k for r in matrix):
        raise ValueError("ICC needs the same number (>= 2) of raters for every item")
    grand = sum(sum(r) for r in matrix) / (n * k)
    row_means = [sum(r) / k for r in matrix]
    col_means = [sum(matrix[i][j] for i in range(n)) / n for j in range(k)]
    ss_rows = k * sum((m - grand) ** 2 for m in row_means)
    ss_cols = n * sum((m - grand) ** 2 for m in col_means)
    ss_total = sum((x - grand) ** 2 for r in matrix for x in r)
    ss_err = ss_total - ss_rows - ss_cols
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_err = ss_err / ((n - 1) * (k - 1))
    denom = ms_rows + (k - 1) * ms_err + k * (ms_cols - ms_err) / n
    if denom <= 0 or math.isclose(denom, 0.0, abs_tol=1e-15):
        return math.nan
    return (ms_rows - ms_err) / denom


def macro_f1(reference: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Unweighted mean of per-class F1 over every class seen in either sequence."""
    _same_length(reference, predicted)
    if not reference:
        return math.nan
    f1s = []
    for c in set(reference) | set(predicted):
        tp = sum(r == c and p == c for r, p in zip(reference, predicted, strict=True))
        fp = sum(r != c and p == c for r, p in zip(reference, predicted, strict=True))
        fn = sum(r == c and p != c for r, p in zip(reference, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 0.0)
    return sum(f1s) / len(f1s)


def bootstrap_stat(
    rows: Sequence[T],
    stat: Callable[[Sequence[T]], float],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """``stat`` on ``rows`` with a percentile bootstrap CI over rows (resamples giving nan are skipped)."""
    rows = list(rows)
    value = stat(rows) if rows else math.nan
    out: dict[str, Any] = {"value": value, "ci_low": math.nan, "ci_high": math.nan, "n": len(rows)}
    if len(rows) < 2 or math.isnan(value):
        return out
    rng = random.Random(seed)
    boots = []
    for _ in range(n_boot):
        v = stat(rng.choices(rows, k=len(rows)))
        if not math.isnan(v):
            boots.append(v)
    if len(boots) < n_boot // 2:  # mostly degenerate resamples: a CI would mislead
        return out
    boots.sort()
    out["ci_low"] = boots[math.floor(alpha / 2 * (len(boots) - 1))]
    out["ci_high"] = boots[math.ceil((1 - alpha / 2) * (len(boots) - 1))]
    out["ci_method"] = "bootstrap"
    return out


def pairwise(stat: Callable[[Sequence[Hashable], Sequence[Hashable]], float]):
    """Adapt a two-rater statistic to rows of ``(label_a, label_b)`` for ``bootstrap_stat``."""

    def f(rows: Sequence[tuple[Hashable, Hashable]]) -> float:
        return stat([r[0] for r in rows], [r[1] for r in rows])

    return f


def _same_length(a: Sequence[Any], b: Sequence[Any]) -> None:
    if len(a) != len(b):
        raise ValueError(f"raters labelled different numbers of items ({len(a)} vs {len(b)})")
