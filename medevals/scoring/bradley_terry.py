"""Bradley-Terry strengths from pairwise comparisons, with bootstrap CIs, and rank agreement.

Model: P(i beats j) = p_i / (p_i + p_j). Fitted by maximum likelihood, iteratively: Newton-Raphson
on the log-strengths (the likelihood is concave; the Hessian is a weighted graph Laplacian, its
null space the common shift, solved by least squares), until a step is under 1e-10. This is the
maximum Hunter's (2004) MM iteration reaches, in about ten steps instead of thousands when one
side nearly always wins. A tie counts as half a win for each
side (as Chatbot Arena's public notebooks count ties). So that an entity that never won (or
never lost) keeps a finite strength, each compared pair gets ``prior`` pseudo-comparisons split
evenly (0.1 by default: a weak pull to equality that vanishes as real comparisons accumulate).
Strengths are reported as log-strengths (mean 0 over entities), whose differences are log-odds.

CIs: percentile bootstrap over *comparison units* (a pair asked in both orders is one unit,
resampled together), refitting each time; seeded, so identical comparisons give identical CIs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

#: (winner-side-a score, entity a, entity b): 1 = a won, 0 = b won, 0.5 = tie.
Comparison = tuple[float, str, str]


def fit(comparisons: Sequence[Comparison], *, prior: float = 0.1, max_iter: int = 100) -> dict[str, float]:
    """Log-strength per entity (mean 0); entities never compared are absent."""
    names = sorted({c[1] for c in comparisons} | {c[2] for c in comparisons})
    if not names:
        return {}
    idx = {n: i for i, n in enumerate(names)}
    k = len(names)
    wins = np.zeros((k, k))  # wins[i, j]: (fractional) wins of i over j
    for s, a, b in comparisons:
        i, j = idx[a], idx[b]
        if i == j:
            continue
        wins[i, j] += s
        wins[j, i] += 1.0 - s
    games = wins + wins.T
    pairs = games > 0
    wins = wins + np.where(pairs, prior / 2, 0.0)
    games = wins + wins.T
    w = wins.sum(axis=1)
    theta = np.zeros(k)
    for _ in range(max_iter):
        diff = theta[:, None] - theta[None, :]
        prob = 1.0 / (1.0 + np.exp(-diff))  # P(i beats j)
        grad = w - (games * prob).sum(axis=1)
        hess = games * prob * prob.T  # off-diagonal weights; the Hessian is -(diag(rowsum) - hess)
        lap = np.diag(hess.sum(axis=1)) - hess
        step = np.linalg.lstsq(lap, grad, rcond=None)[0]  # the null space (a common shift) is free
        theta = theta + step
        theta -= theta.mean()
        if float(np.max(np.abs(step))) < 1e-10:
            break
    p = np.exp(theta)
    logs = np.log(p)
    logs -= logs.mean()
    return {n: float(logs[idx[n]]) for n in names}


def bootstrap(
    units: Sequence[Sequence[Comparison]], *, n_boot: int = 200, seed: int = 0, alpha: float = 0.05
) -> dict[str, dict[str, float]]:
    """Log-strength with a percentile CI per entity; ``units`` are resampled whole."""
    flat = [c for u in units for c in u]
    point = fit(flat)
    draws: dict[str, list[float]] = {n: [] for n in point}
    rng = random.Random(seed)
    n = len(units)
    if n >= 2:
        for _ in range(n_boot):
            sample = [c for _ in range(n) for c in units[rng.randrange(n)]]
            est = fit(sample)
            for name in point:
                if name in est:
                    draws[name].append(est[name])
    out = {}
    for name, value in point.items():
        d = sorted(draws[name])
        lo = _pct(d, 100 * alpha / 2) if d else math.nan
        hi = _pct(d, 100 * (1 - alpha / 2)) if d else math.nan
        out[name] = {"value": value, "ci_low": lo, "ci_high": hi, "n": sum(1 for c in flat if name in c[1:])}
    return out


def _pct(vals: list[float], q: float) -> float:
    k = (len(vals) - 1) * q / 100
    f, c = math.floor(k), math.ceil(k)
    return vals[f] if f == c else vals[f] + (vals[c] - vals[f]) * (k - f)


#: Strengths closer than this are one rank: a fit's rounding is not an order.
TIE_DIGITS = 9


def _rounded(values: dict[str, float], names: list[str]) -> list[float]:
    return [round(float(values[n]), TIE_DIGITS) for n in names]


def kendall_tau(predicted: dict[str, float], reference: dict[str, float]) -> float:
    """Kendall's tau-b between two scorings of the same entities: (concordant - discordant pairs)
    / sqrt((pairs - pairs tied in x) * (pairs - pairs tied in y)), scipy's ``kendalltau`` default.
    Plain Python (the entities are a run's compared items, not millions; scipy is not a core
    dependency); checked against scipy in ``tests/scoring/test_bradley_terry.py`` when it is installed.
    NaN without any order (every pair tied on one side)."""
    names = sorted(set(predicted) & set(reference))
    if len(names) < 2:
        return math.nan
    x = _rounded(predicted, names)
    y = _rounded(reference, names)
    score = pairs = x_ties = y_ties = 0
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            pairs += 1
            x_ties += dx == 0
            y_ties += dy == 0
            score += dx * dy
    denom = math.sqrt((pairs - x_ties) * (pairs - y_ties))
    return score / denom if denom > 0 else math.nan


def ndcg(predicted: dict[str, float], reference: dict[str, float]) -> float:
    """nDCG of the predicted order with the reference scores as gains (shifted to be >= 0).

    Tie-aware (McSherry & Najork 2008): items with equal predicted strength share the mean
    discount of the positions their group spans, so no tie-break (item names, input order) can
    lend a model that ranks nothing a perfect score."""
    names = sorted(set(predicted) & set(reference))
    if len(names) < 2:
        return math.nan
    low = min(reference[n] for n in names)
    gain = {n: reference[n] - low for n in names}
    strength = dict(zip(names, _rounded(predicted, names), strict=True))
    order = sorted(names, key=lambda n: -strength[n])
    dcg, i = 0.0, 0
    while i < len(order):
        j = i
        while j < len(order) and strength[order[j]] == strength[order[i]]:
            j += 1
        discount = sum(1 / math.log2(k + 2) for k in range(i, j)) / (j - i)
        dcg += discount * sum(gain[n] for n in order[i:j])
        i = j
    ideal = sorted(gain.values(), reverse=True)
    idcg = sum(g / math.log2(k + 2) for k, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else math.nan
