"""MedCalc-Bench v1.0 test set (1047 notes, 55 calculators) with the physician-corrected labels.

Split ``test`` scores against the original labels; split ``corrected`` keeps the 887 rows that were
re-labelled (69 of them answer "N/A": the note does not allow the calculation, abstention expected)
and scores against the corrected labels, by that label set's own rule (``scoring/calc_answer.py``). Every item carries both label sets in ``metadata['labels']``
so the protocol reports accuracy on each. The step-by-step explanations and extracted entities are
answer-leaking and never reach the prompt; the entities go in metadata for library validation only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.readers import read_csv, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

ORIGINAL = "original_test_labels.csv"
CORRECTED = "medcalc_v1_corrected.csv"


def _label(row: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    ans = require(row, "Ground Truth Answer", path, line).strip()
    if ans.upper() == "N/A":
        return {"answer": "N/A", "lower": None, "upper": None}
    return {
        "answer": ans,
        "lower": require(row, "Lower Limit", path, line).strip(),
        "upper": require(row, "Upper Limit", path, line).strip(),
    }


def load_corrected(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / CORRECTED
    out: dict[str, dict[str, Any]] = {}
    for line, row in read_csv(path):
        out[require(row, "Unique ID", path, line)] = _label(row, path, line)
    return out


def load_local(folder: Path, split: str) -> list[Item]:
    path = folder / ORIGINAL
    corrected = load_corrected(folder)
    items: list[Item] = []
    for line, row in read_csv(path):
        uid = require(row, "Unique ID", path, line)
        original = _label(row, path, line)
        fixed = corrected.get(uid)
        if split == "corrected" and fixed is None:
            continue
        out_type = require(row, "Output Type", path, line)
        if out_type not in ("decimal", "integer", "date"):
            raise DataError(f"unknown output type {out_type!r}", path=path, line=line, field="Output Type")
        cid = require(row, "Calculator ID", path, line)
        if not cid.isdigit():
            raise DataError("expected an integer", path=path, line=line, field="Calculator ID")
        note = require(row, "Patient Note", path, line)
        question = require(row, "Question", path, line)
        items.append(
            Item(
                id=f"medcalc-{uid}",
                input=question,
                context=note,
                target=fixed if split == "corrected" else original,
                subset=require(row, "Calculator Name", path, line),
                metadata={
                    "calculator_id": int(cid),
                    "category": require(row, "Category", path, line),
                    "output_type": out_type,
                    "labels": {"original": original, "corrected": fixed},
                    "entities": require(row, "Relevant Entities", path, line),
                    "note_type": row.get("Note Type", ""),
                },
            )
        )
    return items


def local_files(folder: Path, split: str) -> list[Path]:
    return [folder / ORIGINAL, folder / CORRECTED]


MEDCALC = Benchmark(
    name="medcalc",
    title="MedCalc-Bench (v1.0 test, original and physician-corrected labels)",
    protocol="calc",
    task_type="clinical calculation (numeric / date answer within limits)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Medical calculation"),
    license="CC-BY-SA-4.0 (data); labels corrections from junzeye/validate-medcalc-labels (MIT)",
    source="Khandekar et al., MedCalc-Bench, NeurIPS 2024 Datasets & Benchmarks; github.com/ncbi-nlp/MedCalc-Bench",
    description="Patient notes with a calculator question; original labels judged by MedCalc-Bench's rule "
    "(decimals within ±5% limits, integer scores rounded then exact, dates, weeks/days), corrected labels "
    "by that set's own limits (±5% on integer scores too); --set tolerance=... picks one rule.",
    splits={"test": 1047, "corrected": 887},
    default_split="test",
    local_dir="medcalc_bench",
    load_local=load_local,
    local_files=local_files,
)
