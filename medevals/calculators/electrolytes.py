"""Electrolytes, acid-base and lipids: gaps and ratios, corrections, osmolality, LDL, HOMA-IR, water deficit."""

from __future__ import annotations

from typing import Any

from medevals.calculators.base import calculator, num
from medevals.calculators.body import SEX, WEIGHT
from medevals.calculators.errors import OutOfRange

SODIUM = num("sodium", "serum sodium", "conc:sodium", 90, 200)
CHLORIDE = num("chloride", "serum chloride", "conc:chloride", 50, 160)
BICARB = num("bicarbonate", "serum bicarbonate", "conc:bicarbonate", 1, 60)
ALBUMIN = num("albumin", "serum albumin", "conc:albumin", 0.5, 7)
GLUCOSE = num("glucose", "serum glucose", "conc:glucose", 10, 3000)
_GAP = [SODIUM, CHLORIDE, BICARB]


def anion_gap(v: dict[str, Any]) -> float:
    return v["sodium"] - (v["chloride"] + v["bicarbonate"])


def _bicarb_drop(v: dict[str, Any], slug: str) -> float:
    drop = 24.0 - v["bicarbonate"]
    if abs(drop) < 1e-9:
        raise OutOfRange(slug, "bicarbonate", "delta ratio is undefined at a normal bicarbonate of 24 mEq/L")
    return drop


def albumin_corrected_ag(v: dict[str, Any]) -> float:
    return anion_gap(v) + 2.5 * (4.0 - v["albumin"])


@calculator(39, "anion-gap", "Anion Gap", "lab", "decimal", _GAP, "mEq/L")
def _ag(v: dict[str, Any]) -> float:
    """AG = Na - (Cl + HCO3) (Emmett & Narins, Medicine 1977;56:38)."""
    return anion_gap(v)


@calculator(63, "delta-gap", "Delta Gap", "lab", "decimal", _GAP, "mEq/L")
def _dg(v: dict[str, Any]) -> float:
    """Delta gap = AG - 12 (normal AG) (Wrenn, Ann Emerg Med 1990;19:1310)."""
    return anion_gap(v) - 12.0


@calculator(64, "delta-ratio", "Delta Ratio", "lab", "decimal", _GAP)
def _dr(v: dict[str, Any]) -> float:
    """Delta ratio = (AG - 12) / (24 - HCO3) (Rastegar, J Am Soc Nephrol 2007;18:2429)."""
    return (anion_gap(v) - 12.0) / _bicarb_drop(v, "delta-ratio")


@calculator(
    65,
    "albumin-corrected-anion-gap",
    "Albumin Corrected Anion Gap",
    "lab",
    "decimal",
    [*_GAP, ALBUMIN],
    "mEq/L",
)
def _acag(v: dict[str, Any]) -> float:
    """Corrected AG = AG + 2.5 x (4 - albumin g/dL) (Figge et al., Crit Care Med 1998;26:1807)."""
    return albumin_corrected_ag(v)


@calculator(
    66,
    "albumin-corrected-delta-gap",
    "Albumin Corrected Delta Gap",
    "lab",
    "decimal",
    [*_GAP, ALBUMIN],
    "mEq/L",
)
def _acdg(v: dict[str, Any]) -> float:
    """Albumin-corrected delta gap = corrected AG - 12 (Figge 1998; Wrenn 1990)."""
    return albumin_corrected_ag(v) - 12.0


@calculator(
    67, "albumin-corrected-delta-ratio", "Albumin Corrected Delta Ratio", "lab", "decimal", [*_GAP, ALBUMIN]
)
def _acdr(v: dict[str, Any]) -> float:
    """Albumin-corrected delta ratio = (corrected AG - 12) / (24 - HCO3) (Figge 1998; Rastegar 2007)."""
    return (albumin_corrected_ag(v) - 12.0) / _bicarb_drop(v, "albumin-corrected-delta-ratio")


@calculator(
    7,
    "calcium-correction",
    "Calcium Correction for Hypoalbuminemia",
    "lab",
    "decimal",
    [num("calcium", "serum calcium", "conc:calcium", 1, 25), ALBUMIN],
    "mg/dL",
)
def _ca(v: dict[str, Any]) -> float:
    """Corrected Ca = Ca + 0.8 x (4 - albumin g/dL) (Payne et al., Br Med J 1973;4:643)."""
    return v["calcium"] + 0.8 * (4.0 - v["albumin"])


@calculator(
    26,
    "sodium-correction",
    "Sodium Correction for Hyperglycemia",
    "lab",
    "decimal",
    [SODIUM, GLUCOSE],
    "mEq/L",
)
def _na_corr(v: dict[str, Any]) -> float:
    """Corrected Na = Na + 0.024 x (glucose mg/dL - 100) (Hillier et al., Am J Med 1999;106:399)."""
    return v["sodium"] + 0.024 * (v["glucose"] - 100.0)


@calculator(
    30,
    "serum-osmolality",
    "Serum Osmolality",
    "lab",
    "decimal",
    [SODIUM, num("bun", "blood urea nitrogen", "conc:bun", 0.5, 300), GLUCOSE],
    "mOsm/kg",
)
def _osm(v: dict[str, Any]) -> float:
    """Calculated osmolality = 2 x Na + BUN/2.8 + glucose/18 (Dorwart & Chalmers, Clin Chem 1975;21:190)."""
    return 2.0 * v["sodium"] + v["bun"] / 2.8 + v["glucose"] / 18.0


@calculator(
    31,
    "homa-ir",
    "HOMA-IR (Homeostatic Model Assessment for Insulin Resistance)",
    "lab",
    "decimal",
    [num("insulin", "fasting insulin", "insulin", 0.1, 1000), GLUCOSE],
)
def _homa(v: dict[str, Any]) -> float:
    """HOMA-IR = fasting insulin (uIU/mL) x fasting glucose (mg/dL) / 405 (Matthews et al., Diabetologia 1985;28:412)."""
    return v["insulin"] * v["glucose"] / 405.0


@calculator(
    44,
    "ldl",
    "LDL Calculated",
    "lab",
    "decimal",
    [
        num("total_cholesterol", "total cholesterol", "conc:cholesterol", 20, 1500),
        num("hdl_cholesterol", "HDL cholesterol", "conc:cholesterol", 1, 300),
        num("triglycerides", "triglycerides", "conc:triglycerides", 5, 10000),
    ],
    "mg/dL",
)
def _ldl(v: dict[str, Any]) -> float:
    """Friedewald: LDL = TC - HDL - TG/5 (mg/dL) (Friedewald et al., Clin Chem 1972;18:499)."""
    return v["total_cholesterol"] - v["hdl_cholesterol"] - v["triglycerides"] / 5.0


@calculator(
    38,
    "free-water-deficit",
    "Free Water Deficit",
    "lab",
    "decimal",
    [num("age", "age", "age", 0, 120), SEX, WEIGHT, SODIUM],
    "L",
)
def _fwd(v: dict[str, Any]) -> float:
    """FWD = TBW fraction x weight x (Na/140 - 1); TBW 0.6 children and adult men, 0.5 adult women and
    elderly men, 0.45 elderly women (Adrogue & Madias, N Engl J Med 2000;342:1493)."""
    age, male = v["age"], v["sex"] == "Male"
    if age < 18:
        f = 0.6
    elif age < 65:
        f = 0.6 if male else 0.5
    else:
        f = 0.5 if male else 0.45
    return f * v["weight"] * (v["sodium"] / 140.0 - 1.0)
