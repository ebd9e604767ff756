"""Explicit unit conversion to each quantity's canonical unit.

Every numeric parameter declares a *dimension*; a value arrives either as a bare number (taken to
be in the canonical unit) or with a unit string. Concentrations cross between mass, molar and
equivalent units through the analyte's molar mass and valence (mg/dL <-> umol/L <-> mEq/L), so
unit confusion is resolved by conversion, never guessed. Unknown units raise ``UnitError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# g/mol and charge of the analytes whose concentrations cross mass <-> molar units.
ANALYTES: dict[str, tuple[float, int]] = {
    "creatinine": (113.12, 1),
    "bun": (28.02, 1),
    "glucose": (180.16, 1),
    "sodium": (22.99, 1),
    "potassium": (39.098, 1),
    "chloride": (35.45, 1),
    "bicarbonate": (61.02, 1),
    "calcium": (40.08, 2),
    "albumin": (66500.0, 1),
    "bilirubin": (584.66, 1),
    "cholesterol": (386.65, 1),
    "triglycerides": (885.7, 1),
    "hemoglobin": (64458.0, 1),
}

# canonical concentration unit per analyte
CANONICAL_CONC: dict[str, str] = {
    "creatinine": "mg/dL",
    "bun": "mg/dL",
    "glucose": "mg/dL",
    "sodium": "mmol/L",
    "potassium": "mmol/L",
    "chloride": "mmol/L",
    "bicarbonate": "mmol/L",
    "calcium": "mg/dL",
    "albumin": "g/dL",
    "bilirubin": "mg/dL",
    "cholesterol": "mg/dL",
    "triglycerides": "mg/dL",
    "hemoglobin": "g/dL",
}

_MASS = {"kg": 1e3, "g": 1.0, "mg": 1e-3, "µg": 1e-6, "ng": 1e-9}
_MOL = {"mol": 1.0, "mmol": 1e-3, "µmol": 1e-6, "nmol": 1e-9, "pmol": 1e-12}
_EQ = {"eq": 1.0, "meq": 1e-3}
_VOL = {"l": 1.0, "dl": 0.1, "ml": 1e-3, "µl": 1e-6, "mm^3": 1e-6, "mm3": 1e-6, "cm^3": 1e-3, "m^3": 1e3}


def norm_unit(unit: str) -> str:
    """Lower-case, unify micro signs and spacing ('umol/L', 'μmol/l' -> 'µmol/l')."""
    u = unit.strip().lower().replace("μ", "µ").replace(" ", "")
    u = re.sub(r"^(u|mc)(?=(g|mol|l)\b)", "µ", u)
    u = re.sub(r"/(u|mc)l$", "/µl", u)
    return u


def _amount(part: str) -> tuple[str, float] | None:
    if part in _MASS:
        return "g", _MASS[part]
    if part in _MOL:
        return "mol", _MOL[part]
    if part in _EQ:
        return "eq", _EQ[part]
    return None


def convert_concentration(value: float, unit: str, analyte: str, target: str | None = None) -> float:
    """``value unit`` of ``analyte`` in ``target`` (default: the analyte's canonical unit)."""
    target = target or CANONICAL_CONC[analyte]
    src, dst = norm_unit(unit), norm_unit(target)
    if src == dst:
        return value
    try:
        s_amt, s_vol = src.split("/")
        d_amt, d_vol = dst.split("/")
    except ValueError:
        raise ValueError(f"'{unit}' is not a concentration unit (amount/volume)") from None
    sa, da = _amount(s_amt), _amount(d_amt)
    if sa is None or da is None or s_vol not in _VOL or d_vol not in _VOL:
        raise ValueError(f"cannot convert {analyte} from '{unit}' to '{target}'")
    mm, valence = ANALYTES[analyte]
    # to moles per litre
    kind, f = sa
    per_l = value * f / _VOL[s_vol]
    if kind == "g":
        mol_l = per_l / mm
    elif kind == "eq":
        mol_l = per_l / valence
    else:
        mol_l = per_l
    kind, f = da
    if kind == "g":
        out = mol_l * mm
    elif kind == "eq":
        out = mol_l * valence
    else:
        out = mol_l
    return out / f * _VOL[d_vol]


@dataclass(frozen=True)
class Dimension:
    """A physical quantity with a canonical unit and the factors/functions from accepted units."""

    name: str
    canonical: str
    factors: dict[str, float]

    def convert(self, value: float, unit: str) -> float:
        u = norm_unit(unit)
        if self.name == "temperature":
            if u in ("c", "°c", "celsius", "degc", "degreescelsius", "degreescelsisus"):
                return value
            if u in ("f", "°f", "fahrenheit", "degf", "degreesfahrenheit", "degreesfahreinheit"):
                return (value - 32.0) * 5.0 / 9.0
            raise ValueError(f"unknown temperature unit '{unit}' (°C or °F)")
        if u in self.factors:
            return value * self.factors[u]
        raise ValueError(
            f"unknown unit '{unit}' for {self.name} (accepted: {', '.join(sorted(self.factors))})"
        )


_PER_UL = {
    "µl": 1.0,
    "/µl": 1.0,
    "mm^3": 1.0,
    "/mm^3": 1.0,
    "m^3": 1.0,
    "cells/µl": 1.0,
    "l": 1e-6,
    "/l": 1e-6,
}
_PER_UL.update({"10^9/l": 1e3, "x10^9/l": 1e3, "10^3/µl": 1e3, "x10^3/µl": 1e3, "k/µl": 1e3, "10^6/µl": 1e6})

DIMENSIONS: dict[str, Dimension] = {
    "weight": Dimension(
        "weight", "kg", {"kg": 1.0, "g": 1e-3, "lb": 0.453592, "lbs": 0.453592, "oz": 0.0283495}
    ),
    "height": Dimension(
        "height",
        "cm",
        {"cm": 1.0, "m": 100.0, "mm": 0.1, "in": 2.54, "inch": 2.54, "inches": 2.54, "ft": 30.48},
    ),
    "age": Dimension(
        "age",
        "years",
        {
            "years": 1.0,
            "year": 1.0,
            "y": 1.0,
            "months": 1 / 12,
            "month": 1 / 12,
            "weeks": 7 / 365.25,
            "days": 1 / 365.25,
        },
    ),
    "temperature": Dimension("temperature", "°C", {}),
    "pressure": Dimension("pressure", "mm Hg", {"mmhg": 1.0, "mm[hg]": 1.0, "kpa": 7.50062, "torr": 1.0}),
    "rate": Dimension(
        "rate",
        "per minute",
        {"beatsperminute": 1.0, "bpm": 1.0, "/min": 1.0, "breathsperminute": 1.0, "perminute": 1.0},
    ),
    "interval": Dimension("interval", "msec", {"msec": 1.0, "ms": 1.0, "s": 1000.0, "sec": 1000.0}),
    "count": Dimension("count", "per µL", _PER_UL),
    "percent": Dimension("percent", "%", {"%": 1.0, "percent": 1.0, "fraction": 100.0}),
    "bmi": Dimension("bmi", "kg/m^2", {"kg/m^2": 1.0, "kg/m2": 1.0, "kg/m²": 1.0}),
    "dose_mg": Dimension("dose_mg", "mg", {"mg": 1.0, "g": 1000.0, "µg": 1e-3}),
    "dose_ug": Dimension("dose_ug", "µg", {"µg": 1.0, "mg": 1000.0}),
    "infusion": Dimension("infusion", "mcg/kg/min", {"µg/kg/min": 1.0, "mcg/kg/min": 1.0, "mc/kg/min": 1.0}),
    "urine_output": Dimension("urine_output", "mL/day", {"ml/day": 1.0, "ml/24h": 1.0, "l/day": 1000.0}),
    "enzyme": Dimension("enzyme", "U/L", {"u/l": 1.0, "iu/l": 1.0}),
    "insulin": Dimension("insulin", "µIU/mL", {"µiu/ml": 1.0, "miu/l": 1.0, "pmol/l": 1 / 6.0}),
    "per_day": Dimension("per_day", "per day", {"perday": 1.0, "/day": 1.0, "timesaday": 1.0}),
    "plain": Dimension("plain", "", {"": 1.0, "days": 1.0, "day": 1.0, "drinks": 1.0, "drinks/week": 1.0}),
}
