"""Combining several judges' labels into one: mean, majority or min, ignoring judges that failed.

``mean`` keeps disagreement visible as a fraction; ``majority`` is a vote (ties go to the lower
value: a tie between "met" and "not met" is not met, the conservative reading); ``min`` needs
every judge that answered to agree on the higher value. With no judge answering the result is
``None`` (unscored), never 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

JuryMethod = Literal["mean", "majority", "min"]


def aggregate(labels: Sequence[float | None], method: JuryMethod) -> float | None:
    vals = [float(v) for v in labels if v is not None]
    if not vals:
        return None
    if method == "mean":
        return sum(vals) / len(vals)
    if method == "min":
        return min(vals)
    if method == "majority":
        counts = Counter(vals)
        top = max(counts.values())
        return min(v for v, c in counts.items() if c == top)
    raise ValueError(f"unknown jury method {method!r} (mean, majority, min)")
