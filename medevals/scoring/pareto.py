"""The cost-accuracy Pareto frontier: which (model, strategy) points no other point beats on both axes."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated when lower x (cost) and higher y (accuracy) are better.

    A point is dominated if another is at most as costly and at least as accurate, and strictly
    better on one of the two. Returned in increasing x, so they can be joined as a staircase.
    """
    idx = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best = float("-inf")
    for i in idx:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front
