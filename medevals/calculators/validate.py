"""Validate the calculator library against MedCalc-Bench: recompute every row from its Relevant Entities.

For each row the library's answer (from the row's extracted parameters) is judged against the original
and the physician-corrected label by MedCalc-Bench's rule (limits, integers exact, dates), for both label
sets: the corrected set's own ±5% limits on integer scores would hide library differences.
Disagreements on the corrected labels are classed:

- ``entity_error``: the library refuses the extracted inputs (implausible value or unit, e.g. albumin
  17.1 g/dL), so the row's entities are wrong, not the formula;
- ``entities_stale``: the library reproduces the *original* label but the corrected label differs: the
  physicians changed the answer from the note, while the extracted entities still hold the old reading;
- ``library_differs``: the library matches neither label (a convention of ours, or both labels wrong).

Rows whose corrected label is "N/A" (the note does not support the calculation) are counted apart.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medevals.calculators.base import get
from medevals.calculators.errors import CalculatorError
from medevals.calculators.medcalc_entities import parse_entities, to_inputs
from medevals.calculators.tools import format_result
from medevals.scoring.calc_answer import answer_kind, judge


@dataclass
class RowCheck:
    uid: str
    calculator_id: int
    calculator: str
    value: Any
    error: str | None
    ok_original: bool | None
    ok_corrected: bool | None  # None: row not in the corrected set or its label is N/A
    corrected_na: bool
    klass: str | None = None


@dataclass
class ValidationReport:
    rows: list[RowCheck] = field(default_factory=list)

    def rate(self, which: str) -> tuple[int, int]:
        key = "ok_original" if which == "original" else "ok_corrected"
        judged = [getattr(r, key) for r in self.rows if getattr(r, key) is not None]
        return sum(judged), len(judged)

    def classes(self) -> Counter[str]:
        return Counter(r.klass for r in self.rows if r.klass)

    def per_calculator(self) -> dict[str, tuple[int, int, int, int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for r in self.rows:
            c = out[r.calculator]
            if r.ok_original is not None:
                c[0] += r.ok_original
                c[1] += 1
            if r.ok_corrected is not None:
                c[2] += r.ok_corrected
                c[3] += 1
        return {k: (v[0], v[1], v[2], v[3]) for k, v in sorted(out.items())}

    def summary(self) -> dict[str, Any]:
        ko, no = self.rate("original")
        kc, nc = self.rate("corrected")
        return {
            "rows": len(self.rows),
            "original": {"agree": ko, "n": no, "rate": ko / no if no else None},
            "corrected": {"agree": kc, "n": nc, "rate": kc / nc if nc else None},
            "corrected_na_rows": sum(r.corrected_na for r in self.rows),
            "disagreement_classes": dict(self.classes()),
        }


def _as_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%m/%d/%Y")
    if isinstance(value, tuple):
        return f"{value[0]} weeks, {value[1]} days"
    return repr(float(value))


def check_items(items: list[Any]) -> ValidationReport:
    """Validate benchmark items (from ``medevals.benchmarks.medcalc.load_local``)."""
    report = ValidationReport()
    for it in items:
        md = it.metadata
        cid = md["calculator_id"]
        calc = get(cid)
        labels = md["labels"]
        value: Any = None
        error = None
        try:
            value = calc.compute(to_inputs(cid, parse_entities(md["entities"])))
        except CalculatorError as e:
            error = f"{type(e).__name__}: {e}"
        text = _as_text(value) if error is None else ""
        kind = answer_kind(md["output_type"], cid, labels.values())
        ok_o = (
            bool(judge(text, labels["original"], md["output_type"], kind=kind)[0]) if error is None else False
        )
        corr = labels.get("corrected")
        na = bool(corr and str(corr["answer"]).upper() == "N/A")
        ok_c: bool | None = None
        if corr is not None and not na:
            ok_c = bool(judge(text, corr, md["output_type"], kind=kind)[0]) if error is None else False
        row = RowCheck(
            it.id.removeprefix("medcalc-"),
            cid,
            calc.title,
            format_result(calc, value) if error is None else None,
            error,
            ok_o,
            ok_c,
            na,
        )
        if ok_c is False:
            row.klass = "entity_error" if error else "entities_stale" if ok_o else "library_differs"
        report.rows.append(row)
    return report


def validate_folder(folder: Path) -> ValidationReport:
    from medevals.benchmarks.medcalc import load_local

    return check_items(load_local(folder, "test"))
