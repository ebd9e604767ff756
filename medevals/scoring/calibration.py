"""Calibration of confidences against correctness: ECE, Brier score, reliability bins, selective accuracy.

A confidence is the probability a method assigns to the answer it gave (option logprob mass,
self-consistency agreement, or a verbalised percentage). These statistics compare it with
whether that answer was right; they are pure functions over (confidence, correct) pairs so
they can be checked by hand and reused by any protocol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _pairs(confidences: Sequence[float], correct: Sequence[float]) -> list[tuple[float, float]]:
    if len(confidences) != len(correct):
        raise ValueError(f"{len(confidences)} confidences but {len(correct)} outcomes")
    out = []
    for c, y in zip(confidences, correct, strict=True):
        if not 0.0 <= c <= 1.0 or not math.isfinite(c):
            raise ValueError(f"confidence {c!r} is not a probability")
        out.append((float(c), float(y)))
    return out


def _bin_index(c: float, n_bins: int) -> int:
    """Equal-width bins (0, 1/n], ..., with 0 in the first bin and 1 in the last."""
    return min(n_bins - 1, max(0, math.ceil(c * n_bins) - 1))


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[float], n_bins: int = 10
) -> list[dict[str, float]]:
    """Non-empty equal-width bins: mean confidence, accuracy and count (the reliability diagram's points)."""
    bins: list[list[tuple[float, float]]] = [[] for _ in range(n_bins)]
    for c, y in _pairs(confidences, correct):
        bins[_bin_index(c, n_bins)].append((c, y))
    out = []
    for i, b in enumerate(bins):
        if b:
            out.append(
                {
                    "lo": i / n_bins,
                    "hi": (i + 1) / n_bins,
                    "confidence": sum(c for c, _ in b) / len(b),
                    "accuracy": sum(y for _, y in b) / len(b),
                    "n": len(b),
                }
            )
    return out


def ece(confidences: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """Expected calibration error: sum over bins of |accuracy - mean confidence| weighted by bin size."""
    pairs = _pairs(confidences, correct)
    if not pairs:
        return math.nan
    n = len(pairs)
    return sum(
        b["n"] / n * abs(b["accuracy"] - b["confidence"])
        for b in reliability_bins(confidences, correct, n_bins)
    )


def brier(confidences: Sequence[float], correct: Sequence[float]) -> float:
    """Brier score of the stated answer: mean (confidence - correct)^2 (0 is perfect, 0.25 = always 50%)."""
    pairs = _pairs(confidences, correct)
    if not pairs:
        return math.nan
    return sum((c - y) ** 2 for c, y in pairs) / len(pairs)


def selective_accuracy(
    confidences: Sequence[float],
    correct: Sequence[float],
    coverages: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0),
) -> list[tuple[float, float]]:
    """Accuracy when answering only the most confident fraction of items (ties broken by input order).

    For coverage ``q`` the top ``ceil(q * n)`` items by confidence are kept.
    """
    pairs = _pairs(confidences, correct)
    if not pairs:
        return []
    order = sorted(range(len(pairs)), key=lambda i: (-pairs[i][0], i))
    out = []
    for q in coverages:
        k = max(1, math.ceil(q * len(pairs) - 1e-9))
        kept = [pairs[i][1] for i in order[:k]]
        out.append((float(q), sum(kept) / len(kept)))
    return out
