"""MedMCP-Calc (Zhu et al., ACL 2026): scenario tasks that need several clinical calculators, from
``$MEDEVALS_DATA/medmcp_calc/tasks.jsonl`` (118 tasks, 837 gold calculator results).

**Inputs given (not the published setting).** Upstream the agent queries a PostgreSQL EHR (about
20 GB, partly MIMIC-IV under credentialed access) through MCP tools for every value it needs; that
database cannot be rebuilt here (see the data's SOURCE.md). The runnable variant instead gives the
model the task's gold calculator inputs as a flat list of patient facts: every ``field: value`` of
``calculator_answers[*].inputs``, identical pairs once, sorted by field name so that neither the
calculators' order nor where one calculator's inputs end shows; per-item ``score`` points are never
shown. Calculator selection and calculation are still the model's; data acquisition is not tested.
Some gold input values name a category of a score (``"Symptomatic but completely ambulatory (ECOG
1)"``) or carry another calculator's result (a creatinine clearance feeding a toxicity score):
inherent in giving the inputs, and one more reason this is not the published setting.

The question is ``fuzzy_question``, the variant that describes the clinical need without naming a
calculator; ``task_description`` (a step-by-step plan naming every calculator) is never mapped.
``calculator_answers`` is the answer key (as upstream's grader uses it); ``required_calculators``
differs from it in 18 tasks and is not used.

``LIBRARY_MAP`` maps the gold calculator names that coincide with a medevals calculator (same
formula and the same primary result) to its slug: with ``--tools calculators`` the model can call
those, and a reported tool name or library title counts as naming the mapped gold calculator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.readers import read_jsonl, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

SETTING = "inputs given (not the published setting)"
FILE = "tasks.jsonl"

#: Gold calculator name (as in ``calculator_answers``) -> medevals calculator slug, where the two
#: compute the same primary result from the same inputs. Notes on each choice in the README.
LIBRARY_MAP: dict[str, str] = {
    "Creatinine Clearance (Cockcroft-Gault Equation)": "cockcroft-gault",
    "CrCl Cockroft-Gault": "cockcroft-gault",
    "CKD-EPI Equations for Glomerular Filtration Rate (GFR)": "ckd-epi-2021",
    "CHA₂DS₂-VASc Score for Atrial Fibrillation Stroke Risk": "cha2ds2-vasc",
    "Mean Arterial Pressure (MAP)": "map",
    "BMI Calculator (Body Mass Index and BSA)": "bmi",
    "BMI and BSA (Mosteller)": "bmi",
    "Calcium Correction for Hypoalbuminemia and Hyperalbuminemia": "calcium-correction",
    "Wells' Criteria for Pulmonary Embolism": "wells-pe",
    "Ideal Body Weight": "ibw",
    "Ideal Body Weight and Adjusted Body Weight": "ibw",
    "Corrected QT Interval (QTc)": "qtc-bazett",
    "QTc (Fridericia) Correction Calculator": "qtc-fridericia",
    "Child-Pugh Score": "child-pugh",
    "Child-Pugh Score for Cirrhosis": "child-pugh",
    "Child-Pugh Score for Cirrhosis Mortality": "child-pugh",
    "Revised Cardiac Risk Index for Pre-Operative Risk": "rcri",
    "Centor Score (Modified/McIsaac) for Strep Pharyngitis": "centor",
    "Glasgow Coma Scale (GCS)": "gcs",
    "Maintenance Fluids Calculations": "maintenance-fluids",
    "MELD Na (UNOS/OPTN)": "meld-na",
    "HAS-BLED Score for Major Bleeding Risk": "has-bled",
    "Sodium Correction for Hyperglycemia": "sodium-correction",
    "Glasgow-Blatchford Bleeding Score (GBS)": "glasgow-blatchford",
    "PSI/PORT Score: Pneumonia Severity Index for CAP": "psi",
    "Serum Osmolality/Osmolarity": "serum-osmolality",
    "HOMA-IR (Homeostatic Model Assessment for Insulin Resistance)": "homa-ir",
    "Charlson Comorbidity Index (CCI)": "cci",
    "FeverPAIN Score for Strep Pharyngitis": "feverpain",
    "Caprini Score for Venous Thromboembolism (2005)": "caprini",
    "Free Water Deficit in Hypernatremia": "free-water-deficit",
    "Serum Anion Gap": "anion-gap",
    "Fractional Excretion of Sodium (FENa)": "fena",
    "Sequential Organ Failure Assessment (SOFA) Score": "sofa",
    "LDL Calculated": "ldl",
    "CURB-65 Score for Pneumonia Severity": "curb-65",
    "PERC Rule for Pulmonary Embolism": "perc",
    "Morphine Milligram Equivalents (MME) Calculator": "mme",
}


def domain(category: str) -> str:
    """``"Clinical Medicine / Emergency, ... / ..."`` -> its second level (upstream's per-domain breakdown)."""
    parts = [p.strip() for p in category.split("/")]
    return parts[1] if len(parts) > 1 and parts[1] else "Unknown"


def _value_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def patient_facts(answers: list[dict[str, Any]]) -> list[str]:
    """Every gold input as ``"field: value"``, identical pairs once, sorted by field (stable)."""
    seen: dict[tuple[str, str], str] = {}
    for calc in answers:
        for inp in calc.get("inputs") or []:
            field = str(inp.get("field", "")).strip()
            value = _value_text(inp.get("value", "")).strip()
            key = (field.casefold(), value.casefold())
            if field and key not in seen:
                seen[key] = f"{field}: {value}"
    return [seen[k] for k in sorted(seen, key=lambda k: k[0])]


def task_text(question: str, facts: list[str]) -> str:
    return (
        f"{question.strip()}\n\nPatient data (given here; in the published setting they are queried from the "
        "patient's electronic health record):\n" + "\n".join(f"- {f}" for f in facts)
    )


def task_item(row: dict[str, Any], where: Path, line: int) -> Item:
    answers = require(row, "calculator_answers", where, line, kind=list)
    if not answers:
        raise DataError("no gold calculator", path=where, line=line, field="calculator_answers")
    gold = []
    for i, a in enumerate(answers):
        if not isinstance(a, dict) or not str(a.get("name", "")).strip() or "final_answer" not in a:
            raise DataError(
                "needs a name and a final_answer", path=where, line=line, field=f"calculator_answers[{i}]"
            )
        fa = a["final_answer"]
        if not isinstance(fa, (int, float, str)) or isinstance(fa, bool):
            raise DataError(
                f"final_answer: expected a number or a string, got {type(fa).__name__}",
                path=where,
                line=line,
                field=f"calculator_answers[{i}]",
            )
        gold.append({"order": a.get("order", i + 1), "name": str(a["name"]).strip(), "final_answer": fa})
    facts = patient_facts(answers)
    category = require(row, "task_category", where, line)
    return Item(
        id=require(row, "task_id", where, line),
        input=task_text(require(row, "fuzzy_question", where, line), facts),
        target=gold,
        subset=domain(category),
        metadata={
            "setting": SETTING,
            "scenario": require(row, "task_scenario", where, line),
            "category": category,
            "patient_id": require(row, "patient_id", where, line),
            "facts": facts,
            "library": [LIBRARY_MAP.get(g["name"]) for g in gold],
        },
    )


def _load(folder: Path, split: str) -> Iterator[Item]:
    path = folder / FILE
    for line, row in read_jsonl(path):
        yield task_item(row, path, line)


MEDMCP_CALC = Benchmark(
    name="medmcp-calc",
    title=f"MedMCP-Calc scenario tasks, {SETTING}",
    protocol="calc-workflow",
    task_type=f"multi-calculator clinical workflow, {SETTING}",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Medical calculation"),
    license="MIT (the EHR database, partly MIMIC-IV-derived, is not used)",
    source="Zhu et al. 2026, MedMCP-Calc: Benchmarking LLMs for Realistic Medical Calculator Scenarios via MCP "
    "Integration (SPIRAL-MED/MedMCP-Calc@81f3ff2, benchmark/tasks.jsonl)",
    description=f"118 clinical scenarios that each need 1-23 calculators (837 gold results). {SETTING.capitalize()}: "
    "the EHR database cannot be rebuilt offline, so the model gets the task's gold calculator inputs as patient "
    "facts and must choose the calculators and compute them; scored per task by calculator selection "
    "precision/recall and value accuracy.",
    splits={"test": 118},
    default_split="test",
    local_dir="medmcp_calc",
    load_local=_load,
    local_files=lambda folder, split: [folder / FILE],
)
