"""Pairwise macro-F1 of one rater against others: the HealthBench meta-evaluation's agreement statistic.

The published meta-evaluation (openai/simple-evals ``healthbench_meta_eval.py``,
``compute_metrics_for_rater_by_class`` / ``get_f1_metrics`` / ``get_balanced_metrics``) compares a
rater's label on a (conversation, response, criterion) row with *each* other label on that row,
pooling the pairs over rows:

- precision of a class = agreeing pairs / pairs where the rater said that class; recall = agreeing
  pairs / pairs where the other rater said it; F1 of the class from those two;
- macro-F1 ("balanced") = the mean of the F1 of "met" and "not met"; it is defined only when
  both classes' precision and recall are (the rater used both labels and the others did too):
  otherwise upstream reports nothing, and here it is ``nan``;
- its weight ``n`` (used when the analysis notebook averages several F1s) is upstream's
  ``n_pos + n_neg``, where a class's ``n`` = TP + FP + FN; over all pairs that is
  pairs + disagreeing pairs.

The grader model is one rater against every physician label; each physician is a rater against
the other physicians on the same rows. Pairs are summarised by their four counts, so a row's
contribution is four integers and a bootstrap over rows stays cheap. ``scoring.agreement``'s
``macro_f1`` on the flattened pairs gives the same value wherever it is defined (tested).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Counts = tuple[int, int, int, int]
"""(tp, fp, fn, tn) of pairs (rater, other): tp both met, fp rater met / other not, fn the reverse."""


def pair_counts(rater: bool, others: Iterable[bool]) -> Counts:
    tp = fp = fn = tn = 0
    for o in others:
        if rater and o:
            tp += 1
        elif rater:
            fp += 1
        elif o:
            fn += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def add(a: Counts, b: Counts) -> Counts:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]


def class_f1(tp: float, fp: float, fn: float) -> float:
    """F1 of one class, ``nan`` when its precision or recall is undefined (no prediction / no truth)."""
    if tp + fp == 0 or tp + fn == 0:
        return math.nan
    return 2 * tp / (2 * tp + fp + fn)


def macro_f1(c: Counts) -> float:
    tp, fp, fn, tn = c
    pos = class_f1(tp, fp, fn)
    neg = class_f1(tn, fn, fp)  # "not met" as the class: its true positives are tn
    return (pos + neg) / 2  # nan when either is undefined


def weight(c: Counts) -> int:
    """Upstream's ``n`` of the balanced F1: (TP+FP+FN) of "met" + the same of "not met"."""
    tp, fp, fn, tn = c
    return (tp + fp + fn) + (tn + fn + fp)


@dataclass(frozen=True)
class RaterF1:
    value: float
    n: int  # upstream's weight (pairs + disagreeing pairs)
    pairs: int
    f1_met: float
    f1_not_met: float

    def cell(self, ci: tuple[float, float] | None = None, rows: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "n": rows if rows is not None else self.pairs}
        if ci is not None:
            out["ci_low"], out["ci_high"] = ci
        return out


def rater_f1(c: Counts) -> RaterF1:
    tp, fp, fn, tn = c
    return RaterF1(macro_f1(c), weight(c), sum(c), class_f1(tp, fp, fn), class_f1(tn, fn, fp))


def weighted_mean(parts: Iterable[RaterF1]) -> RaterF1 | None:
    """The analysis notebook's ``agg_n_and_val_list``: F1s averaged with weights ``n`` (undefined skipped)."""
    parts = [p for p in parts if not math.isnan(p.value) and p.n > 0]
    if not parts:
        return None
    total = sum(p.n for p in parts)
    value = sum(p.value * p.n for p in parts) / total
    return RaterF1(value, total, sum(p.pairs for p in parts), math.nan, math.nan)


def bootstrap_ci(
    rows: Sequence[Counts], *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap of the pooled macro-F1, resampling rows (each row's pairs stay together).

    Rows are sorted first, so the interval does not depend on the order samples were stored in.
    """
    import numpy as np

    n = len(rows)
    if n < 2:
        return math.nan, math.nan
    counts = np.asarray(sorted(rows), dtype=np.int64).reshape(-1, 4)
    rng = np.random.default_rng(seed)
    boots: list[float] = []
    chunk = max(1, 2_000_000 // n)  # bounded memory: at most ~2M row indices at a time
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        sums = counts[rng.integers(0, n, size=(k, n))].sum(axis=1)
        boots.extend(macro_f1(tuple(int(x) for x in row)) for row in sums)  # type: ignore[arg-type]
        done += k
    vals = sorted(b for b in boots if not math.isnan(b))
    if len(vals) < n_boot // 2:
        return math.nan, math.nan
    lo = vals[math.floor(alpha / 2 * (len(vals) - 1))]
    hi = vals[math.ceil((1 - alpha / 2) * (len(vals) - 1))]
    return lo, hi


def percentile_among(value: float, others: Sequence[float]) -> float:
    """The analysis notebook's model percentile: share of raters below, ties counted half (0-100)."""
    if not others or math.isnan(value):
        return math.nan
    below = sum(o < value for o in others)
    ties = sum(o == value for o in others)
    return (below + 0.5 * ties) / len(others) * 100
