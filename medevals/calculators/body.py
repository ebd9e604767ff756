"""Anthropometric and haemodynamic formulas: BMI, BSA, ideal/adjusted/target weight, fluids, MAP."""

from __future__ import annotations

import math
from typing import Any

from medevals.calculators.base import calculator, choice, num

SEX = choice("sex", "patient sex", ("Male", "Female"))
WEIGHT = num("weight", "body weight", "weight", 0.3, 500)
HEIGHT = num("height", "body height", "height", 30, 260)


def bmi(weight_kg: float, height_cm: float) -> float:
    return weight_kg / (height_cm / 100.0) ** 2


def ibw(sex: str, height_cm: float) -> float:
    base = 50.0 if sex == "Male" else 45.5
    return base + 2.3 * (height_cm / 2.54 - 60.0)


def abw(sex: str, weight_kg: float, height_cm: float) -> float:
    i = ibw(sex, height_cm)
    return i + 0.4 * (weight_kg - i)


@calculator(6, "bmi", "Body Mass Index (BMI)", "physical", "decimal", [WEIGHT, HEIGHT], "kg/m^2")
def _bmi(v: dict[str, Any]) -> float:
    """BMI = weight (kg) / height (m)^2 (Quetelet; WHO, Obesity: preventing and managing the global epidemic, 2000)."""
    return bmi(v["weight"], v["height"])


@calculator(60, "bsa", "Body Surface Area Calculator", "physical", "decimal", [WEIGHT, HEIGHT], "m^2")
def _bsa(v: dict[str, Any]) -> float:
    """Mosteller: BSA = sqrt(height cm x weight kg / 3600) (Mosteller, N Engl J Med 1987;317:1098)."""
    return math.sqrt(v["weight"] * v["height"] / 3600.0)


@calculator(10, "ibw", "Ideal Body Weight", "physical", "decimal", [SEX, HEIGHT], "kg")
def _ibw(v: dict[str, Any]) -> float:
    """Devine: IBW = 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 5 ft (Devine, Drug Intell Clin Pharm 1974;8:650)."""
    return ibw(v["sex"], v["height"])


@calculator(62, "abw", "Adjusted Body Weight", "physical", "decimal", [SEX, WEIGHT, HEIGHT], "kg")
def _abw(v: dict[str, Any]) -> float:
    """ABW = IBW + 0.4 x (actual weight - IBW) (Bauer, Applied Clinical Pharmacokinetics, 2nd ed. 2008)."""
    return abw(v["sex"], v["weight"], v["height"])


@calculator(
    61,
    "target-weight",
    "Target weight",
    "physical",
    "decimal",
    [num("target_bmi", "target body mass index", "bmi", 5, 80), HEIGHT],
    "kg",
)
def _target_weight(v: dict[str, Any]) -> float:
    """Target weight = target BMI x height (m)^2 (inverse of the Quetelet index)."""
    return v["target_bmi"] * (v["height"] / 100.0) ** 2


@calculator(
    22, "maintenance-fluids", "Maintenance Fluids Calculations", "physical", "decimal", [WEIGHT], "mL/hr"
)
def _maintenance(v: dict[str, Any]) -> float:
    """Holliday-Segar 4-2-1 rule: 4 mL/kg/h for the first 10 kg, 2 for the next 10, 1 thereafter
    (Holliday & Segar, Pediatrics 1957;19:823)."""
    w = v["weight"]
    if w <= 10:
        return 4.0 * w
    if w <= 20:
        return 40.0 + 2.0 * (w - 10)
    return 60.0 + (w - 20)


@calculator(
    5,
    "map",
    "Mean Arterial Pressure (MAP)",
    "physical",
    "decimal",
    [
        num("sys_bp", "systolic blood pressure", "pressure", 20, 300),
        num("dia_bp", "diastolic blood pressure", "pressure", 5, 250),
    ],
    "mm Hg",
)
def _map(v: dict[str, Any]) -> float:
    """MAP = 2/3 x diastolic + 1/3 x systolic (DeMers & Wachs, StatPearls: Physiology, Mean Arterial Pressure)."""
    return 2.0 / 3.0 * v["dia_bp"] + 1.0 / 3.0 * v["sys_bp"]
