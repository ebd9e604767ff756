"""Exam scores beside accuracy, as the exams' own benchmarks report them.

- ``head-qa`` (HEAD-QA, Vilares & Gómez-Rodríguez 2019; ``aghie/head-qa@eval.py`` ``netas_score``):
  the Spanish MIR-style net score, +3 for a right answer, -1 for a wrong one, 0 for an unanswered
  question; summed per exam (a year's booklet of one category), then averaged over the exams of a
  category. medevals counts an unreadable reply as unanswered (0): no option was marked.
- ``igakuqa`` (IgakuQA, Kasai et al. 2023; ``jungokasai/IgakuQA@scripts/evaluate_main.py``): each
  question carries the points the Japanese exam gives it (1 general, 3 clinical, 0 excluded by
  the ministry after the exam); the score is the points of the questions answered right out of
  the points available, per exam.

``item_points`` gives a sample's (earned, available) points; ``ExamTally`` sums them per exam for
the report table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

RULES = ("none", "head-qa", "igakuqa")


def item_points(
    rule: str, metadata: dict[str, Any], correct: float, parsed: bool
) -> tuple[float, float] | None:
    """(points earned, points available) for one answered question, or None without an exam rule."""
    if rule == "head-qa":
        return (3.0 if correct else -1.0 if parsed else 0.0), 3.0
    if rule == "igakuqa":
        weight = float(metadata.get("points", 1))
        return weight * correct, weight
    return None


@dataclass
class _Exam:
    n: int = 0
    right: int = 0
    wrong: int = 0
    unanswered: int = 0
    earned: float = 0.0
    available: float = 0.0


@dataclass
class ExamTally:
    """Points per exam (``Item.metadata["exam"]``, else the subset) over one variant's samples."""

    rule: str
    exams: dict[str, _Exam] = field(default_factory=lambda: defaultdict(_Exam))
    category: dict[str, str] = field(default_factory=dict)

    def add(self, metadata: dict[str, Any], subset: str | None, correct: float, parsed: bool) -> None:
        pts = item_points(self.rule, metadata, correct, parsed)
        if pts is None:
            return
        name = str(metadata.get("exam") or subset or "all")
        e = self.exams[name]
        e.n += 1
        if correct:
            e.right += 1
        elif parsed:
            e.wrong += 1
        else:
            e.unanswered += 1
        e.earned += pts[0]
        e.available += pts[1]
        if subset:
            self.category[name] = subset

    def table(self) -> dict[str, Any] | None:
        if not self.exams:
            return None
        rows: list[list[Any]] = []
        for name in sorted(self.exams):
            e = self.exams[name]
            rows.append(
                [
                    name,
                    self.category.get(name, ""),
                    e.n,
                    e.right,
                    e.wrong,
                    e.unanswered,
                    f"{e.earned:g} / {e.available:g}",
                    f"{100 * e.earned / e.available:.1f}%" if e.available else "—",
                ]
            )
        if self.rule == "head-qa":
            by_cat: dict[str, list[float]] = defaultdict(list)
            for name, e in self.exams.items():
                by_cat[self.category.get(name, "")].append(e.earned)
            for cat, totals in sorted(by_cat.items()):
                rows.append(
                    [
                        f"mean over {len(totals)} exams",
                        cat,
                        "",
                        "",
                        "",
                        "",
                        f"{sum(totals) / len(totals):.1f}",
                        "",
                    ]
                )
            caption = (
                "HEAD-QA net score ('netas'): +3 per right answer, -1 per wrong answer, 0 unanswered (an "
                "unreadable reply counts as unanswered), summed per exam and averaged over a category's exams, "
                "as aghie/head-qa eval.py. Items left out (images not shipped) are not in any exam total."
            )
        else:
            caption = (
                "IgakuQA score: the exam's points (1 general, 3 clinical, 0 excluded by the ministry) of the "
                "questions answered right, out of the points of the questions asked, per exam, as "
                "jungokasai/IgakuQA scripts/evaluate_main.py. Questions left out (figures not shipped) are "
                "in neither total, so this is not the exam's pass mark."
            )
        return {
            "title": "Exam score",
            "columns": ["exam", "category", "questions", "right", "wrong", "unanswered", "points", "share"],
            "rows": rows,
            "caption": caption,
        }
