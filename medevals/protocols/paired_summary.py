"""Run-level tables of the paired protocol: MediConfusion's per-category table and a per-variant summary,
beside everything the MCQ summary gives (strategy grid, calibration, robustness, degradations)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from medevals.protocols import mcq_summary
from medevals.schema import Sample
from medevals.scoring.confusion import PairOutcome, category_table, pair_outcome

CAPTION = (
    "MediConfusion's definitions: set accuracy = both images of a pair answered correctly (over all pairs); "
    "confusion = the same valid option chosen for both images (over pairs with both answers valid); "
    "individual accuracy = correct answers / (2 x pairs); invalid = share of images without a readable answer. "
    "Per category, a pair counts once for each category each of its images carries, as upstream counts."
)


def _pct(x: float) -> str:
    return "—" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def summarize(samples: Iterable[Sample], variants: list[str]) -> dict[str, Any]:
    rows: dict[str, list[tuple[PairOutcome, Sequence[Sequence[str]]]]] = defaultdict(list)

    def tap() -> Iterator[Sample]:
        for s in samples:
            sc = s.score
            if sc is not None and sc.value is not None and isinstance(sc.answer, list):
                cats = s.item.metadata.get("categories") or [[] for _ in sc.answer]
                rows[s.variant].append((pair_outcome(sc.answer, sc.target), cats))
            yield s

    out = mcq_summary.summarize(tap(), variants)
    tables: list[dict[str, Any]] = []
    head = next((v for v in variants if rows.get(v)), None)
    if head is not None:
        table = category_table(rows[head])
        order = [*sorted(k for k in table if k != "total"), "total"]
        tables.append(
            {
                "title": f"Paired confusion by category ({head})",
                "columns": [
                    "category",
                    "pairs (weighted)",
                    "set accuracy",
                    "individual accuracy",
                    "confusion",
                    "invalid images",
                ],
                "rows": [
                    [
                        k,
                        f"{table[k]['n']:g}",
                        _pct(table[k]["set_accuracy"]),
                        _pct(table[k]["individual_accuracy"]),
                        _pct(table[k]["confusion"]),
                        _pct(table[k]["invalid"]),
                    ]
                    for k in order
                ],
                "caption": CAPTION,
            }
        )
    if sum(1 for v in variants if rows.get(v)) > 1:
        summary_rows = []
        for v in variants:
            if not rows.get(v):
                continue
            t = category_table(rows[v])["total"]
            summary_rows.append(
                [
                    v,
                    f"{t['n']:g}",
                    _pct(t["set_accuracy"]),
                    _pct(t["individual_accuracy"]),
                    _pct(t["confusion"]),
                    _pct(t["invalid"]),
                ]
            )
        tables.append(
            {
                "title": "Paired confusion by variant",
                "columns": [
                    "variant",
                    "pairs",
                    "set accuracy",
                    "individual accuracy",
                    "confusion",
                    "invalid images",
                ],
                "rows": summary_rows,
                "caption": CAPTION,
            }
        )
    out["tables"] = tables + out.get("tables", [])
    return out
