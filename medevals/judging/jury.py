"""Combining several judges' labels into one: mean, majority or min, ignoring judges that failed.

``mean`` keeps disagreement visible as a fraction; ``majority`` is a vote (ties go to the lower
value: a tie between "met" and "not met" is not met, the conservative reading); ``min`` needs
every judge that answered to agree on the higher value. With no judge answering the result is
``None`` (unscored), never 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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


@dataclass(frozen=True)
class JuryReading:
    """One judgement read from every judge's stored record.

    ``value``: the jury's boolean label (as 0/1, aggregated) for a boolean verdict; ``values``:
    the jury's aggregate of each named value of a valued verdict (``None`` when no judge
    answered). ``per_role``: each judge's own reading (``None`` for a judge that failed), so
    per-judge scores and agreement need no second reading. ``problems``: one line per failure.
    """

    value: float | None
    values: dict[str, float] | None
    per_role: dict[str, float | dict[str, float] | None]
    problems: list[str]


def read_jury(judges: dict[str, dict[str, Any]], method: JuryMethod, label: str = "") -> JuryReading:
    """Read every judge's record of one judgement and aggregate them with ``method``."""
    from medevals.judging.verdicts import read_record

    per_role: dict[str, float | dict[str, float] | None] = {}
    problems: list[str] = []
    for role in sorted(judges):
        v = read_record(judges[role])
        if not v.ok:
            per_role[role] = None
            problems.append(f"{label + ' ' if label else ''}{role} {v.kind}: {v.failure}")
        elif v.values is not None:
            per_role[role] = dict(v.values)
        else:
            per_role[role] = float(bool(v.label))
    answered = [x for x in per_role.values() if x is not None]
    if answered and all(isinstance(x, dict) for x in answered):
        names = list(answered[0])  # type: ignore[arg-type]
        agg = {n: aggregate([x.get(n) for x in answered], method) for n in names}  # type: ignore[union-attr]
        return JuryReading(None, {n: v for n, v in agg.items() if v is not None}, per_role, problems)
    labels = [x if isinstance(x, float) else None for x in per_role.values()]
    return JuryReading(aggregate(labels, method), None, per_role, problems)
