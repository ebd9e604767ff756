"""Kidney function: Cockcroft-Gault, CKD-EPI 2021, MDRD, fractional excretion of sodium."""

from __future__ import annotations

from typing import Any

from medevals.calculators.base import calculator, choice, num
from medevals.calculators.body import HEIGHT, SEX, WEIGHT, abw, bmi, ibw

AGE = num("age", "age", "age", 0, 120)
CREATININE = num("creatinine", "serum creatinine", "conc:creatinine", 0.05, 30)


@calculator(
    2,
    "cockcroft-gault",
    "Creatinine Clearance (Cockcroft-Gault Equation)",
    "lab",
    "decimal",
    [AGE, SEX, WEIGHT, HEIGHT, CREATININE],
    "mL/min",
)
def _cg(v: dict[str, Any]) -> float:
    """CrCl = (140 - age) x weight x (0.85 if female) / (72 x SCr mg/dL) (Cockcroft & Gault, Nephron 1976;16:31).

    Weight as MedCalc-Bench/MDCalc: actual weight if BMI < 18.5, min(IBW, actual) if 18.5-24.9,
    adjusted body weight if overweight or obese."""
    w, h, sex = v["weight"], v["height"], v["sex"]
    b = bmi(w, h)
    if b < 18.5:
        adj = w
    elif b <= 24.9:
        adj = min(ibw(sex, h), w)
    else:
        adj = abw(sex, w, h)
    k = 1.0 if sex == "Male" else 0.85
    return (140.0 - v["age"]) * adj * k / (v["creatinine"] * 72.0)


@calculator(
    3,
    "ckd-epi-2021",
    "CKD-EPI Equations for Glomerular Filtration Rate",
    "lab",
    "decimal",
    [AGE, SEX, CREATININE],
    "mL/min/1.73 m²",
)
def _ckd_epi(v: dict[str, Any]) -> float:
    """2021 race-free CKD-EPI creatinine: 142 x min(SCr/k,1)^a x max(SCr/k,1)^-1.200 x 0.9938^age x 1.012 [female];
    k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M) (Inker et al., N Engl J Med 2021;385:1737)."""
    scr, female = v["creatinine"], v["sex"] == "Female"
    k = 0.7 if female else 0.9
    a = -0.241 if female else -0.302
    return (
        142.0
        * min(scr / k, 1.0) ** a
        * max(scr / k, 1.0) ** -1.2
        * 0.9938 ** v["age"]
        * (1.012 if female else 1.0)
    )


@calculator(
    9,
    "mdrd",
    "MDRD GFR Equation",
    "lab",
    "decimal",
    [
        AGE,
        SEX,
        CREATININE,
        choice(
            "race",
            "race (the 1.212 coefficient applies to Black patients)",
            ("Black", "White", "Other"),
            "Other",
        ),
    ],
    "mL/min/1.73 m²",
)
def _mdrd(v: dict[str, Any]) -> float:
    """GFR = 175 x SCr^-1.154 x age^-0.203 x 0.742 [female] x 1.212 [Black] (Levey et al., Ann Intern Med 2006;145:247)."""
    g = 175.0 * v["creatinine"] ** -1.154 * v["age"] ** -0.203
    if v["sex"] == "Female":
        g *= 0.742
    if v["race"] == "Black":
        g *= 1.212
    return g


@calculator(
    40,
    "fena",
    "Fractional Excretion of Sodium (FENa)",
    "lab",
    "decimal",
    [
        num("sodium", "serum sodium", "conc:sodium", 90, 200),
        CREATININE,
        num("urine_sodium", "urine sodium", "conc:sodium", 1, 400),
        num("urine_creatinine", "urine creatinine", "conc:creatinine", 1, 1000),
    ],
    "%",
)
def _fena(v: dict[str, Any]) -> float:
    """FENa = (UNa x SCr) / (SNa x UCr) x 100 (Espinel, JAMA 1976;236:579)."""
    return v["urine_sodium"] * v["creatinine"] / (v["sodium"] * v["urine_creatinine"]) * 100.0
