"""Contamination-free calculation tasks: seeded synthetic patient notes with library ground truth.

For every calculator, ``generate(seed)`` samples clinically plausible inputs, renders them into a short
note with varied wording, mixed units (lb/kg, in/cm, umol/L/mg/dL, F/C, mmol/L/mg/dL ...) and distractor
values the calculator does not use, and computes the answer with the library *from the values as
written* (so unit conversion is part of the task). One case per calculator (when it has a required
input) omits a required value: its answer is "N/A" and the model must say it cannot compute. The same
seed and date stamp always give the same set; a new seed (or stamp) gives a never-published one.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Any

from medevals.calculators.base import Calculator, Param, all_calculators
from medevals.calculators.dosing import MME_FACTORS
from medevals.calculators.errors import CalculatorError
from medevals.calculators.units import DIMENSIONS, convert_concentration

GENERATOR_VERSION = "1"
CASES_PER_CALCULATOR = 4

# plausible sampling range (canonical unit) and display decimals per parameter name
RANGES: dict[str, tuple[float, float, int]] = {
    "age": (18, 90, 0),
    "weight": (45, 130, 1),
    "height": (150, 195, 0),
    "creatinine": (0.5, 4.0, 2),
    "sodium": (124, 156, 0),
    "chloride": (88, 115, 0),
    "bicarbonate": (8, 30, 0),
    "albumin": (1.8, 4.8, 1),
    "glucose": (70, 450, 0),
    "bun": (7, 70, 0),
    "calcium": (7.0, 11.0, 1),
    "heart_rate": (45, 150, 0),
    "qt_interval": (320, 500, 0),
    "sys_bp": (80, 190, 0),
    "dia_bp": (40, 110, 0),
    "mean_arterial_pressure": (55, 120, 0),
    "temperature": (35.0, 40.5, 1),
    "respiratory_rate": (10, 36, 0),
    "bilirubin": (0.3, 9.0, 1),
    "inr": (0.9, 3.5, 1),
    "ph": (7.15, 7.55, 2),
    "potassium": (2.8, 6.5, 1),
    "hematocrit": (22, 52, 0),
    "wbc": (2500, 26000, -2),
    "gcs": (3, 15, 0),
    "fio2": (21, 100, 0),
    "pao2": (50, 160, 0),
    "paco2": (25, 55, 0),
    "a_a_gradient": (50, 520, 0),
    "platelet_count": (40000, 420000, -3),
    "ast": (15, 300, 0),
    "alt": (10, 300, 0),
    "insulin": (2, 40, 1),
    "total_cholesterol": (130, 300, 0),
    "hdl_cholesterol": (25, 85, 0),
    "triglycerides": (50, 380, 0),
    "urine_sodium": (10, 150, 0),
    "urine_creatinine": (20, 200, 0),
    "oxygen_sat": (86, 100, 0),
    "target_bmi": (18.5, 30, 1),
    "bmi": (18, 42, 1),
    "cycle_length": (24, 35, 0),
    "alcoholic_drinks": (0, 20, 0),
    "input_dose": (1, 80, 1),
    "hemoglobin": (6.0, 16.5, 1),
    "urine_output": (150, 2500, -1),
    "dopamine": (0, 20, 1),
    "dobutamine": (0, 15, 1),
    "epinephrine": (0, 0.3, 2),
    "norepinephrine": (0, 0.3, 2),
}

# alternative display units per dimension (the canonical unit is always allowed too)
ALT_UNITS: dict[str, list[str]] = {
    "weight": ["kg", "lb"],
    "height": ["cm", "in", "m"],
    "temperature": ["°C", "°F"],
    "conc:creatinine": ["mg/dL", "µmol/L"],
    "conc:glucose": ["mg/dL", "mmol/L"],
    "conc:bun": ["mg/dL", "mmol/L"],
    "conc:cholesterol": ["mg/dL", "mmol/L"],
    "conc:triglycerides": ["mg/dL", "mmol/L"],
    "conc:calcium": ["mg/dL", "mmol/L"],
    "conc:albumin": ["g/dL", "g/L"],
    "conc:bilirubin": ["mg/dL", "µmol/L"],
    "conc:sodium": ["mmol/L", "mEq/L"],
    "conc:chloride": ["mmol/L", "mEq/L"],
    "conc:bicarbonate": ["mmol/L", "mEq/L"],
    "conc:potassium": ["mmol/L", "mEq/L"],
    "count": ["/µL", "10^9/L"],
}

LABELS: dict[str, list[str]] = {
    "heart_rate": ["heart rate", "pulse"],
    "respiratory_rate": ["respiratory rate", "respirations"],
    "temperature": ["temperature", "body temperature"],
    "creatinine": ["serum creatinine", "creatinine"],
    "bun": ["BUN", "blood urea nitrogen"],
    "wbc": ["WBC count", "white cell count"],
    "qt_interval": ["QT interval", "QT"],
    "oxygen_sat": ["oxygen saturation", "SpO2"],
    "gcs": ["Glasgow Coma Scale score", "GCS"],
    "fio2": ["FiO2", "inspired oxygen fraction"],
    "ph": ["arterial pH", "pH"],
}

DISTRACTORS: list[tuple[str, str, float, float, int, str]] = [
    # (param it must not collide with, label, lo, hi, decimals, unit)
    ("hemoglobin", "hemoglobin", 8, 16, 1, "g/dL"),
    ("ast", "AST", 12, 80, 0, "U/L"),
    ("potassium", "potassium", 3.4, 5.2, 1, "mmol/L"),
    ("oxygen_sat", "SpO2", 90, 100, 0, "%"),
    ("glucose", "glucose", 80, 180, 0, "mg/dL"),
    ("respiratory_rate", "respiratory rate", 12, 24, 0, "breaths/min"),
    ("heart_rate", "heart rate", 60, 110, 0, "beats/min"),
    ("platelet_count", "platelets", 150, 400, 0, "×10^9/L"),
    ("magnesium", "magnesium", 1.6, 2.6, 1, "mg/dL"),
    ("lactate", "lactate", 0.6, 3.5, 1, "mmol/L"),
]

OPENERS = [
    "A {age}-year-old {sex_word} presents to the emergency department.",
    "{Pronoun} is a {age}-year-old {sex_word} seen in clinic today.",
    "We evaluated a {age}-year-old {sex_word} on the medical ward.",
]
NUM_TEMPLATES = [
    "{label} {value} {unit}",
    "{label} was {value} {unit}",
    "{label}: {value} {unit}",
    "{label} of {value} {unit}",
]
TRUE_TEMPLATES = ["History is notable for {desc}.", "{desc_cap}: present.", "The patient has {desc}."]
FALSE_TEMPLATES = ["No {desc}.", "{desc_cap}: absent.", "Denies {desc}."]


@dataclass
class GenCase:
    id: str
    calculator_id: int
    calculator: str
    category: str
    output_type: str
    note: str
    question: str
    answer: str
    lower: str | None
    upper: str | None
    missing: str | None
    inputs: dict[str, Any]


def _display_unit(p: Param, rng: random.Random) -> str:
    return rng.choice(ALT_UNITS.get(p.dimension or "", [p.unit]))


def _to_display(p: Param, canonical: float, unit: str) -> float:
    dim = p.dimension or ""
    if unit == p.unit or not dim or dim == "plain":
        return canonical
    if dim.startswith("conc:"):
        return convert_concentration(canonical, p.unit, dim[5:], target=unit)
    if dim == "temperature":
        return canonical * 9 / 5 + 32 if unit == "°F" else canonical
    if dim == "count" and unit == "10^9/L":
        return canonical / 1000.0
    return canonical / DIMENSIONS[dim].convert(1.0, unit)


def _decimals(p: Param, unit: str, base: int) -> int:
    if unit in ("µmol/L", "/µL"):
        return 0
    if (
        unit in ("mmol/L",)
        and p.dimension
        and p.dimension[5:] in ("glucose", "bun", "cholesterol", "triglycerides", "calcium")
    ):
        return 2
    if unit == "10^9/L":
        return 1 if p.name == "wbc" else 0
    if unit in ("in", "lb", "°F", "g/L"):
        return 1
    if unit == "m":
        return 2
    return max(base, 0)


def _fmt(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}" if decimals > 0 else f"{round(x):d}"


def _sample_inputs(calc: Calculator, rng: random.Random, stamp: dt.date) -> dict[str, Any]:
    vals: dict[str, Any] = {}
    if calc.slug == "mme":
        for key in rng.sample(sorted(MME_FACTORS), rng.randint(1, 3)):
            dim = MME_FACTORS[key][2]
            vals[f"{key}_dose"] = float(
                rng.choice([12, 25, 50, 75, 100] if dim == "dose_ug" else [2, 5, 10, 15, 20, 30])
            )
            vals[f"{key}_doses_per_day"] = float(rng.randint(1, 4))
        return vals
    for p in calc.params:
        if p.kind == "bool":
            vals[p.name] = rng.random() < 0.35
        elif p.kind == "choice":
            vals[p.name] = rng.choice(p.choices)
        elif p.kind == "date":
            vals[p.name] = stamp - dt.timedelta(days=rng.randint(10, 250))
        else:
            if not p.required and rng.random() < 0.25:
                continue
            lo, hi, dec = RANGES.get(p.name, (p.lo or 0, p.hi or 100, 1))
            x = rng.uniform(lo, hi)
            vals[p.name] = round(x, dec)
    if "current_date" in vals:
        vals["current_date"] = stamp
    if "menstrual_date" in vals and calc.slug in ("gestational-age",):
        vals["menstrual_date"] = stamp - dt.timedelta(days=rng.randint(20, 280))
    if calc.slug == "steroid-conversion" and vals["input_steroid"] == vals["target_steroid"]:
        vals["target_steroid"] = next(
            c for c in calc.param("target_steroid").choices if c != vals["input_steroid"]
        )
    if "mean_arterial_pressure" in vals and "sys_bp" in vals:
        del vals["mean_arterial_pressure"]
    if calc.slug == "apache-ii":
        vals.setdefault("sys_bp", 120.0)
        vals.setdefault("dia_bp", 70.0)
        vals["a_a_gradient" if vals["fio2"] >= 50 else "pao2"] = round(
            rng.uniform(*RANGES["a_a_gradient" if vals["fio2"] >= 50 else "pao2"][:2])
        )
    return vals


def _label(text: str) -> str:
    """A parameter description without its parenthetical usage notes, capitalised."""
    t = re.sub(r"\s*\(.*?\)", "", text).strip()
    return t[:1].upper() + t[1:]


def _article(age: int) -> str:
    return "An" if str(age).startswith("8") or age in (11, 18) else "A"


def _render_mme(vals: dict[str, Any], rng: random.Random) -> tuple[list[str], dict[str, Any]]:
    facts, written = [], {}
    for key, (label, _f, dim) in MME_FACTORS.items():
        if f"{key}_dose" not in vals:
            continue
        dose, n = vals[f"{key}_dose"], int(vals[f"{key}_doses_per_day"])
        unit = "µg/hr patch" if key == "fentanyl_patch" else ("µg" if dim == "dose_ug" else "mg")
        freq = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}[n]
        facts.append(f"Current medications include {label} {_fmt(dose, 0)} {unit} {freq}.")
        written[f"{key}_dose"] = dose
        written[f"{key}_doses_per_day"] = float(n)
    return facts, written


def _render(calc: Calculator, vals: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The note text and the inputs exactly as written (value + display unit)."""
    written: dict[str, Any] = {}
    female_only = calc.category == "date"
    sex = vals.get("sex", "Female" if female_only else rng.choice(["Male", "Female"]))
    age = int(vals.get("age", rng.randint(20, 40) if female_only else rng.randint(20, 85)))
    opener = rng.choice(OPENERS).format(
        age=age, sex_word="man" if sex == "Male" else "woman", Pronoun="He" if sex == "Male" else "She"
    )
    parts = [opener.replace("A 8", "An 8").replace("A 11-", "An 11-").replace("A 18-", "An 18-")]
    if "age" in vals:
        written["age"] = float(age)
    if "sex" in vals:
        written["sex"] = sex
    facts: list[str] = []
    if calc.slug == "mme":
        facts, written = _render_mme(vals, rng)
        vals = {}
    for name, v in vals.items():
        if name in ("age", "sex"):
            continue
        p = calc.param(name)
        if p.kind == "bool":
            written[name] = v
            if v or rng.random() < 0.5:
                tmpl = rng.choice(TRUE_TEMPLATES if v else FALSE_TEMPLATES)
                lab = _label(p.description)
                facts.append(tmpl.format(desc=lab[:1].lower() + lab[1:], desc_cap=lab))
        elif p.kind == "choice":
            written[name] = v
            facts.append(f"{_label(p.description)}: {v}.")
        elif p.kind == "date":
            written[name] = v.strftime("%m/%d/%Y")
            label = "Today's date is" if name == "current_date" else "The last menstrual period started on"
            facts.append(f"{label} {v.strftime('%m/%d/%Y')}.")
        else:
            unit = _display_unit(p, rng) if p.dimension else ""
            dec = RANGES.get(name, (0, 0, 1))[2]
            shown = _to_display(p, float(v), unit)
            text = _fmt(shown, _decimals(p, unit, dec))
            written[name] = [float(text), unit] if unit else float(text)
            label = _label(rng.choice(LABELS.get(name, [p.description])))
            facts.append(rng.choice(NUM_TEMPLATES).format(label=label, value=text, unit=unit).strip() + ".")
    used = {p.name for p in calc.params}
    for key, label, lo, hi, dec, unit in rng.sample(DISTRACTORS, 3):
        if key in used:
            continue
        facts.append(f"{label[:1].upper() + label[1:]} {_fmt(rng.uniform(lo, hi), dec)} {unit}.")
    rng.shuffle(facts)
    return " ".join(parts + facts), written


def _question(calc: Calculator) -> str:
    if calc.output == "date":
        return f"Using the {calc.title} calculator, what is the date? Answer as MM/DD/YYYY."
    if calc.output == "weeks_days":
        return "What is the patient's estimated gestational age? Answer as (weeks, days)."
    unit = f" in {calc.unit}" if calc.unit else ""
    return (
        f"What is the patient's {calc.title}{unit}? If a needed value is missing from the note, answer N/A."
    )


def _answer(calc: Calculator, value: Any) -> tuple[str, str | None, str | None, str]:
    if calc.output == "date":
        s = value.strftime("%m/%d/%Y")
        return s, s, s, "date"
    if calc.output == "weeks_days":
        s = f"({value[0]} weeks, {value[1]} days)"
        return s, s, s, "integer"
    if calc.output == "integer":
        s = str(int(value))
        return s, s, s, "integer"
    x = float(value)
    lo, hi = sorted((x * 0.95, x * 1.05))
    return f"{x:.4f}", f"{lo:.6f}", f"{hi:.6f}", "decimal"


def generate(
    seed: int, stamp: str = "2026-01-01", per_calculator: int = CASES_PER_CALCULATOR
) -> list[GenCase]:
    """``per_calculator`` cases for each of the 55 calculators; one omits a required input (answer N/A)."""
    day = dt.date.fromisoformat(stamp)
    cases: list[GenCase] = []
    for calc in all_calculators():
        rng = random.Random(f"medcalc-gen:{GENERATOR_VERSION}:{stamp}:{seed}:{calc.slug}")
        required = [p.name for p in calc.params if p.required and p.name not in ("sex",)]
        for k in range(per_calculator):
            missing = rng.choice(required) if (k == per_calculator - 1 and required) else None
            for _attempt in range(50):
                vals = _sample_inputs(calc, rng, day)
                note, written = _render(calc, vals, rng)
                try:
                    value = calc.compute(written)
                except CalculatorError:
                    continue  # resample implausible combinations (e.g. bicarbonate of 24 in a delta ratio)
                break
            else:  # pragma: no cover - every calculator has a feasible region
                raise RuntimeError(f"generator could not sample {calc.slug}")
            if missing is not None:
                vals.pop(missing, None)
                note, written = _render(calc, vals, rng)
                if missing == "age":
                    note = "A patient presents for evaluation." + note[note.index(".") + 1 :]
                    written.pop("age", None)
                answer, lo, hi, otype = "N/A", None, None, {"date": "date"}.get(calc.output, "decimal")
            else:
                answer, lo, hi, otype = _answer(calc, value)
            cases.append(
                GenCase(
                    id=f"gen-{stamp}-s{seed}-{calc.slug}-{k}",
                    calculator_id=calc.id,
                    calculator=calc.title,
                    category=calc.category,
                    output_type=otype,
                    note=note,
                    question=_question(calc),
                    answer=answer,
                    lower=lo,
                    upper=hi,
                    missing=missing,
                    inputs={k2: (str(v) if isinstance(v, dt.date) else v) for k2, v in written.items()},
                )
            )
    return cases
