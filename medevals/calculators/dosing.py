"""Drug-dose conversions: corticosteroid equivalence and morphine milligram equivalents (MME)."""

from __future__ import annotations

from typing import Any

from medevals.calculators.base import Param, calculator, choice, num
from medevals.calculators.errors import MissingParameter

# Equivalent anti-inflammatory doses in mg (Liu et al., Allergy Asthma Clin Immunol 2013;9:30; MDCalc table).
STEROID_EQUIVALENT_MG: dict[str, float] = {
    "Betamethasone IV": 0.75,
    "Cortisone PO": 25.0,
    "Dexamethasone IV": 0.75,
    "Dexamethasone PO": 0.75,
    "Hydrocortisone IV": 20.0,
    "Hydrocortisone PO": 20.0,
    "MethylPrednisoLONE IV": 4.0,
    "MethylPrednisoLONE PO": 4.0,
    "PrednisoLONE PO": 5.0,
    "PredniSONE PO": 5.0,
    "Triamcinolone IV": 4.0,
}
_STEROIDS = tuple(STEROID_EQUIVALENT_MG)


@calculator(
    24,
    "steroid-conversion",
    "Steroid Conversion Calculator",
    "dosage",
    "decimal",
    [
        choice("input_steroid", "steroid and route the patient takes", _STEROIDS),
        num("input_dose", "dose of the input steroid", "dose_mg", 0.001, 5000),
        choice("target_steroid", "steroid and route to convert to", _STEROIDS),
    ],
    "mg",
)
def _steroid(v: dict[str, Any]) -> float:
    """Target dose = input dose / equivalent(input) x equivalent(target), using equivalent glucocorticoid
    doses (Liu et al., Allergy Asthma Clin Immunol 2013;9:30)."""
    return (
        v["input_dose"]
        / STEROID_EQUIVALENT_MG[v["input_steroid"]]
        * STEROID_EQUIVALENT_MG[v["target_steroid"]]
    )


# CDC 2016 opioid guideline conversion factors, as used by MDCalc / MedCalc-Bench (hydromorphone 5).
# Fentanyl doses are in micrograms (buccal: per dose; patch: mcg/hr).
MME_FACTORS: dict[str, tuple[str, float, str]] = {
    "codeine": ("Codeine", 0.15, "dose_mg"),
    "fentanyl_buccal": ("FentaNYL buccal", 0.13, "dose_ug"),
    "fentanyl_patch": ("FentANYL patch", 2.4, "dose_ug"),
    "hydrocodone": ("HYDROcodone", 1.0, "dose_mg"),
    "hydromorphone": ("HYDROmorphone", 5.0, "dose_mg"),
    "methadone": ("Methadone", 4.7, "dose_mg"),
    "morphine": ("Morphine", 1.0, "dose_mg"),
    "oxycodone": ("OxyCODONE", 1.5, "dose_mg"),
    "oxymorphone": ("OxyMORphone", 3.0, "dose_mg"),
    "tapentadol": ("Tapentadol", 0.4, "dose_mg"),
    "tramadol": ("TraMADol", 0.2, "dose_mg"),
    "buprenorphine": ("Buprenorphine", 10.0, "dose_mg"),
}


def _mme_params() -> list[Param]:
    out: list[Param] = []
    for key, (label, _f, dim) in MME_FACTORS.items():
        out.append(
            num(
                f"{key}_dose", f"{label} dose per administration (0 if not taken)", dim, 0, 10000, default=0.0
            )
        )
        out.append(num(f"{key}_doses_per_day", f"{label} doses per day", "per_day", 0, 48, default=0.0))
    return out


@calculator(
    49,
    "mme",
    "Morphine Milligram Equivalents (MME) Calculator",
    "dosage",
    "decimal",
    _mme_params(),
    "MME/day",
)
def _mme(v: dict[str, Any]) -> float:
    """Daily MME = sum over opioids of dose x doses/day x conversion factor (Dowell et al., CDC Guideline
    for Prescribing Opioids for Chronic Pain, MMWR Recomm Rep 2016;65:1)."""
    total = 0.0
    seen = False
    for key, (_label, factor, _dim) in MME_FACTORS.items():
        dose, per_day = v[f"{key}_dose"], v[f"{key}_doses_per_day"]
        if dose and per_day:
            seen = True
            total += dose * per_day * factor
    if not seen:
        raise MissingParameter("mme", None, "no opioid with both a dose and doses per day")
    return total
