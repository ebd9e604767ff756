"""Translate a MedCalc-Bench row's "Relevant Entities" (upstream names, typos included) into library inputs.

The upstream entity dicts use human-readable keys ("Heart Rate or Pulse", "Congestive Heart Faliure"),
``[value, unit]`` pairs and a few category spellings. This module owns that mapping so the library itself
keeps clean snake_case parameters. Unmapped keys raise, so a new upstream spelling is noticed, not dropped.
"""

from __future__ import annotations

import ast
from typing import Any

from medevals.calculators.base import get
from medevals.calculators.errors import InvalidValue

# entity key (lower-case) -> parameter name, shared by every calculator
_COMMON: dict[str, str] = {
    "age": "age",
    "sex": "sex",
    "weight": "weight",
    "height": "height",
    "creatinine": "creatinine",
    "heart rate or pulse": "heart_rate",
    "qt interval": "qt_interval",
    "systolic blood pressure": "sys_bp",
    "diastolic blood pressure": "dia_bp",
    "sodium": "sodium",
    "chloride": "chloride",
    "bicarbonate": "bicarbonate",
    "albumin": "albumin",
    "glucose": "glucose",
    "calcium": "calcium",
    "blood urea nitrogen (bun)": "bun",
    "temperature": "temperature",
    "respiratory rate": "respiratory_rate",
    "bilirubin": "bilirubin",
    "international normalized ratio": "inr",
    "ph": "ph",
    "potassium": "potassium",
    "hematocrit": "hematocrit",
    "white blood cell count": "wbc",
    "glasgow coma score": "gcs",
    "fio₂": "fio2",
    "partial pressure of oxygen (pao₂) for apache ii": "pao2",
    "a-a gradient": "a_a_gradient",
    "platelet count": "platelet_count",
    "race": "race",
    "last menstrual date": "menstrual_date",
    "cycle length": "cycle_length",
    "current date": "current_date",
    "hemoglobin": "hemoglobin",
    "insulin": "insulin",
    "total cholesterol": "total_cholesterol",
    "high-density lipoprotein cholesterol": "hdl_cholesterol",
    "triglycerides": "triglycerides",
    "urine creatinine": "urine_creatinine",
    "urine sodium": "urine_sodium",
    "pco₂": "paco2",
    "paco₂": "paco2",
    "o₂ saturation percentage": "oxygen_sat",
    "alanine aminotransferase": "alt",
    "aspartate aminotransferase": "ast",
    "hemoptysis": "hemoptysis",
    "previously documented deep vein thrombosis": "previous_dvt",
    "previously documented pulmonary embolism": "previous_pe",
    "stroke": "stroke",
    "hypertension history": "hypertension",
    "hypertension": "hypertension",
    "congestive heart faliure": "chf",
    "congestive heart failure": "chf",
    "transient ischemic attacks history": "tia",
    "body mass index (bmi)": "bmi",
    "chronic obstructive pulmonary disease": "copd",
    "surgery type": "surgery_type",
}

# calculator id -> entity key (lower-case) -> parameter name
_PER_CALC: dict[int, dict[str, str]] = {
    4: {
        "thromboembolism history": "thromboembolism",
        "vascular disease history": "vascular_disease",
        "diabetes history": "diabetes",
    },
    8: {
        "clinical signs and symptoms of deep vein thrombosis": "clinical_dvt",
        "pulmonary embolism is #1 diagnosis or equally likely": "pe_number_one",
        "immobilization for at least 3 days": "immobilization_3days",
        "surgery in the previous 4 weeks": "surgery_past_4weeks",
        "malignancy with treatment within 6 months or palliative": "malignancy",
    },
    15: {"ascites": "ascites", "encephalopathy": "encephalopathy"},
    16: {
        "active cancer": "active_cancer",
        "bedridden recently >3 days or major surgery within 12 weeks": "bedridden_or_major_surgery",
        "major surgery within 12 weeks": "bedridden_or_major_surgery",
        "bedridden recently >3 days": "bedridden_or_major_surgery",
        "calf swelling >3 centimeters compared to the other leg": "calf_swelling_3cm",
        "collateral (nonvaricose) superficial veins present": "collateral_veins",
        "entire leg swollen": "leg_swollen",
        "localized tenderness along the deep venous system": "localized_tenderness",
        "pitting edema, confined to symptomatic leg": "pitting_edema",
        "paralysis, paresis, or recent plaster immobilization of the lower extremity": "paralysis_or_immobilization",
        "alternative diagnosis to deep vein thrombosis as likely or more likely": "alternative_diagnosis",
    },
    17: {
        "elevated-risk surgery": "elevated_risk_surgery",
        "history of ischemic heart disease": "ischemic_heart_disease",
        "congestive heart failure criteria for the cardiac risk index rule": "congestive_heart_failure",
        "history of cerebrovascular disease": "cerebrovascular_disease",
        "cerebrovascular disease history": "cerebrovascular_disease",
        "pre-operative treatment with insulin": "insulin_treatment",
        "pre-operative creatinine": "creatinine",
    },
    18: {
        "suspicion history": "history",
        "electrocardiogram test": "electrocardiogram",
        "initial troponin": "initial_troponin",
        "diabetes mellitus criteria for cci rule": "diabetes_mellitus",
        "diabetes mellitus": "diabetes_mellitus",
        "smoking": "smoking",
        "obesity": "obesity",
        "hypercholesterolemia": "hypercholesterolemia",
        "parent or sibling with cardiovascular disease before age 65": "family_with_cvd",
        "atherosclerotic disease": "atherosclerotic_disease",
        "transient ischemic attacks history": "_ignored",
    },
    20: {
        "cough absent": "cough_absent",
        "tender/swollen anterior cervical lymph nodes": "tender_lymph_nodes",
        "exudate or swelling on tonsils": "exudate_swelling_tonsils",
    },
    21: {
        "best eye response": "best_eye_response",
        "best verbal response": "best_verbal_response",
        "best motor response": "best_motor_response",
    },
    23: {
        "continuous veno-venous hemodialysis for ≥24 hours in the past week": "cvvhd",
        "dialysis at least twice in the past week": "dialysis_twice",
    },
    25: {
        "liver disease criteria for the has-bled rule": "liver_disease",
        "renal disease criteria for the has-bled rule": "renal_disease",
        "number of alcoholic drinks per week": "alcoholic_drinks",
        "medication usage predisposing to bleeding": "medications_for_bleeding",
        "prior major bleeding or predisposition to bleeding": "prior_bleeding",
        "labile international normalized ratio": "labile_inr",
    },
    27: {
        "cardiac failure present": "cardiac_failure",
        "melena present": "melena_present",
        "recent syncope": "syncope",
        "hepatic disease history": "hepatic_disease_history",
    },
    28: {
        "acute renal failure": "acute_renal_failure",
        "chronic renal failure": "chronic_renal_failure",
        "history of severe organ failure or immunocompromise": "organ_failure_or_immunocompromise",
        "mean arterial pressure": "mean_arterial_pressure",
    },
    29: {
        "nursing home resident": "nursing_home_resident",
        "neoplastic disease": "neoplastic_disease",
        "liver disease severity": "liver_disease",
        "liver disease history": "liver_disease",
        "cerebrovascular disease history": "cerebrovascular_disease",
        "renal disease": "renal_disease",
        "renal disease history": "renal_disease",
        "altered mental status": "altered_mental_status",
        "pleural effusion on x-ray": "pleural_effusion",
    },
    32: {
        "myocardial infarction": "mi",
        "peripheral vascular disease": "peripheral_vascular_disease",
        "cerebrovascular accident": "cva",
        "dementia": "dementia",
        "connective tissue disease": "connective_tissue_disease",
        "peptic ulcer disease": "peptic_ulcer_disease",
        "liver disease severity": "liver_disease",
        "diabetes mellitus criteria for cci rule": "diabetes_mellitus",
        "hemiplegia": "hemiplegia",
        "moderate to severe chronic kidney disease": "moderate_to_severe_ckd",
        "solid tumor": "solid_tumor",
        "leukemia": "leukemia",
        "lymphoma": "lymphoma",
        "aids": "aids",
    },
    33: {
        "symptom onset ≤3 days": "symptom_onset",
        "purulent tonsils": "purulent_tonsils",
        "fever in past 24 hours": "fever_24_hours",
        "severe tonsil inflammation": "severe_tonsil_inflammation",
        "absence of cough or coryza": "cough_coryza_absent",
        "altered mental status for pecarn head injury criteria": "_ignored",
        "occipital, parietal or temporal scalp hematoma; history of level of conciousness (loc) ≥5 sec; not acting normally per parent or severe mechanism of injury?": "_ignored",
    },
    36: {
        "major surgery in the last month": "major_surgery_last_month",
        "congestive heart failure in the last month": "chf_last_month",
        "sepsis in the last month": "sepsis_last_month",
        "pneumonia in the last month": "pneumonia_last_month",
        "immobilizing plaster cast in the last month": "plaster_cast_last_month",
        "hip, pelvis, or leg fracture in the last month": "fracture_last_month",
        "stroke in the last month": "stroke_last_month",
        "multiple trauma in the last month": "multiple_trauma_last_month",
        "acute spinal cord injury causing paralysis in the last month": "spinal_cord_injury_last_month",
        "varicose veins": "varicose_veins",
        "current swollen legs": "current_swollen_legs",
        "current central venous access": "central_venous_access",
        "family history of thrombosis": "family_history_thrombosis",
        "positive factor v leiden": "factor_v_leiden",
        "positive prothrombin 20210a": "prothrombin_20210a",
        "elevated serum homocysteine": "elevated_homocysteine",
        "positive lupus anticoagulant": "lupus_anticoagulant",
        "elevated anticardiolipin antibody": "anticardiolipin_antibody",
        "heparin-induced thrombocytopenia": "heparin_induced_thrombocytopenia",
        "other congenital or acquired thrombophilia": "other_thrombophilia",
        "mobility": "mobility",
        "history of inflammatory bowel disease": "inflammatory_bowel_disease",
        "acute myocardial infarction": "acute_mi",
        "present or previous malignancy": "malignancy",
    },
    43: {
        "on mechanical ventilation": "mechanical_ventilation",
        "continous positive airway pressure": "cpap",
        "continuous positive airway pressure": "cpap",
        "hypotension": "hypotension",
        "dopamine": "dopamine",
        "dobutamine": "dobutamine",
        "epinephrine": "epinephrine",
        "norepinephrine": "norepinephrine",
        "urine output": "urine_output",
        "continuous veno-venous hemodialysis for ≥24 hours in the past week": "_ignored",
    },
    45: {"confusion": "confusion"},
    46: {"smoker": "smoker", "blood pressure being treated with medicines": "bp_medicine"},
    48: {
        "unilateral leg swelling": "unilateral_leg_swelling",
        "recent surgery or trauma": "recent_surgery_or_trauma",
        "hormone use": "hormone_use",
    },
    61: {"body mass index (bmi)": "target_bmi"},
}

_CATEGORY_VALUES: dict[tuple[int, str], dict[str, Any]] = {
    (15, "encephalopathy"): {"no encephalopathy": "none", "grade 0": "none"},
    (28, "chronic_renal_failure"): {"not mentinoed": False},
    (28, "surgery_type"): {"nonoperative": "Nonoperative", "elective": "Elective", "emergency": "Emergency"},
    (32, "liver_disease"): {
        "mild": "mild",
        "moderate": "moderate to severe",
        "moderate to severe": "moderate to severe",
        "severe": "moderate to severe",
        False: "none",
        True: "mild",
    },
    (32, "diabetes_mellitus"): {False: "none or diet-controlled", True: "uncomplicated"},
    (32, "solid_tumor"): {True: "localized", False: "none"},
    (32, "moderate_to_severe_ckd"): {"severe": True},
    (29, "liver_disease"): {},
}


def parse_entities(text: str) -> dict[str, Any]:
    """The row's python-literal dict (not JSON) read safely (``ast.literal_eval``, never ``eval``)."""
    return ast.literal_eval(text)


def _mme_inputs(ent: dict[str, Any]) -> dict[str, Any]:
    from medevals.calculators.dosing import MME_FACTORS

    by_label = {label.lower(): key for key, (label, _f, _d) in MME_FACTORS.items()}
    out: dict[str, Any] = {}
    for k, v in ent.items():
        low = k.lower()
        if low.endswith(" dose per day"):
            drug = by_label[low[: -len(" dose per day")]]
            out[f"{drug}_doses_per_day"] = v[0] if isinstance(v, list) else v
        elif low.endswith(" dose"):
            drug = by_label[low[: -len(" dose")]]
            out[f"{drug}_dose"] = v
        else:
            raise InvalidValue("mme", k, "unknown entity")
    return out


def to_inputs(calculator_id: int, ent: dict[str, Any]) -> dict[str, Any]:
    """Library inputs for a MedCalc-Bench calculator id from its entity dict; raises on unknown keys."""
    calc = get(calculator_id)
    if calculator_id == 49:
        return _mme_inputs(ent)
    if calculator_id == 24:
        name, dose, unit = ent["input steroid"]
        return {"input_steroid": name, "input_dose": [dose, unit], "target_steroid": ent["target steroid"]}
    names = {p.name for p in calc.params}
    per = _PER_CALC.get(calculator_id, {})
    out: dict[str, Any] = {}
    for key, value in ent.items():
        low = key.strip().lower()
        pname = per.get(low) or _COMMON.get(low)
        if pname == "_ignored":
            continue
        if pname is None or pname not in names:
            raise InvalidValue(calc.slug, key, "entity has no matching parameter")
        if isinstance(value, str):
            value = value.strip()
        table = _CATEGORY_VALUES.get((calculator_id, pname), {})
        lookup = value.lower() if isinstance(value, str) else value
        if isinstance(lookup, str | bool) and lookup in table:
            value = table[lookup]
        if pname in out and isinstance(value, bool):
            value = bool(out[pname]) or value  # two entity keys feeding one criterion (Wells DVT)
        out[pname] = value
    return out
