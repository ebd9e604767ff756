"""The answer-set table of an MCQ run: exact match and Hamming score by the number of correct options.

FrenchMedMCQA reports both over all items; broken down by how many options the key has, the
table shows where a model fails (it names one option when three are right, or adds a wrong one).
Predicted-set sizes are given beside, so a model that always answers one letter is visible.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from medevals.schema import Sample
from medevals.scoring.stats import mean_ci


class SetTally:
    def __init__(self) -> None:
        self.exact: dict[int, list[float]] = defaultdict(list)
        self.hamming: dict[int, list[float]] = defaultdict(list)
        self.size: dict[int, list[int]] = defaultdict(list)
        self.unread: dict[int, int] = defaultdict(int)

    def add(self, s: Sample) -> None:
        sc = s.score
        if sc is None or sc.value is None or not s.item.metadata.get("multi_answer"):
            return
        if not isinstance(s.item.target, list) or "hamming_score" not in sc.values:
            return
        k = len(s.item.target)
        self.exact[k].append(float(sc.value))
        self.hamming[k].append(float(sc.values["hamming_score"] or 0.0))
        if isinstance(sc.answer, list):
            self.size[k].append(len(sc.answer))
        else:
            self.unread[k] += 1

    def table(self) -> dict[str, Any] | None:
        if not self.exact:
            return None
        rows: list[list[Any]] = []
        keys = sorted(self.exact)
        for k in [*keys, None]:
            exact = self.exact[k] if k is not None else [v for x in keys for v in self.exact[x]]
            ham = self.hamming[k] if k is not None else [v for x in keys for v in self.hamming[x]]
            size = self.size[k] if k is not None else [v for x in keys for v in self.size[x]]
            unread = self.unread[k] if k is not None else sum(self.unread.values())
            rows.append(
                [
                    "all" if k is None else str(k),
                    len(exact),
                    mean_ci(exact),
                    mean_ci(ham),
                    f"{sum(size) / len(size):.2f}" if size else "—",
                    unread,
                ]
            )
        return {
            "title": "Answer sets: exact match and Hamming score by number of correct options",
            "columns": [
                "correct options",
                "items",
                "exact match",
                "Hamming score",
                "mean options chosen",
                "unread",
            ],
            "rows": rows,
            "caption": "Items that admit several correct options. Exact match: the chosen set equals the key "
            "(the headline accuracy). Hamming score: |chosen ∩ key| / |chosen ∪ key| per item, averaged "
            "(FrenchMedMCQA's definition); an unread reply scores 0 on both.",
        }
