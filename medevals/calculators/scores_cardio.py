"""Cardiovascular and thrombosis risk scores: CHA2DS2-VASc, HAS-BLED, HEART, RCRI, Wells PE/DVT, PERC,
Framingham hard CHD and Caprini."""

from __future__ import annotations

import math
from typing import Any

from medevals.calculators.base import calculator, choice, flag, num
from medevals.calculators.body import SEX

AGE = num("age", "age", "age", 0, 120)
HR = num("heart_rate", "heart rate", "rate", 20, 300)


@calculator(
    4,
    "cha2ds2-vasc",
    "CHA2DS2-VASc Score for Atrial Fibrillation Stroke Risk",
    "risk",
    "integer",
    [
        AGE,
        SEX,
        flag("chf", "congestive heart failure history"),
        flag("hypertension", "hypertension history"),
        flag("stroke", "prior stroke"),
        flag("tia", "prior transient ischemic attack"),
        flag("thromboembolism", "prior thromboembolism"),
        flag("vascular_disease", "vascular disease (prior MI, peripheral artery disease, aortic plaque)"),
        flag("diabetes", "diabetes mellitus"),
    ],
)
def _cha2ds2(v: dict[str, Any]) -> int:
    """C 1, H 1, A2 (>=75) 2, D 1, S2 (stroke/TIA/thromboembolism) 2, V 1, A (65-74) 1, Sc (female) 1
    (Lip et al., Chest 2010;137:263)."""
    age = v["age"]
    s = 2 if age >= 75 else 1 if age >= 65 else 0
    s += v["sex"] == "Female"
    s += v["chf"] + v["hypertension"] + v["diabetes"] + v["vascular_disease"]
    s += 2 * (v["stroke"] or v["tia"] or v["thromboembolism"])
    return int(s)


@calculator(
    25,
    "has-bled",
    "HAS-BLED Score for Major Bleeding Risk",
    "risk",
    "integer",
    [
        AGE,
        flag("hypertension", "uncontrolled hypertension (SBP > 160)"),
        flag("renal_disease", "renal disease (dialysis, transplant, Cr > 2.26 mg/dL)"),
        flag("liver_disease", "liver disease (cirrhosis or bilirubin > 2x / AST/ALT > 3x normal)"),
        flag("stroke", "stroke history"),
        flag("prior_bleeding", "prior major bleeding or predisposition to bleeding"),
        flag("labile_inr", "labile INR"),
        flag("medications_for_bleeding", "antiplatelet or NSAID use"),
        num("alcoholic_drinks", "alcoholic drinks per week", "plain", 0, 500, default=0.0),
    ],
)
def _has_bled(v: dict[str, Any]) -> int:
    """One point each: hypertension, renal disease, liver disease, stroke, bleeding, labile INR, age > 65,
    drugs, alcohol >= 8 drinks/week (Pisters et al., Chest 2010;138:1093)."""
    s = sum(
        bool(v[k])
        for k in (
            "hypertension",
            "renal_disease",
            "liver_disease",
            "stroke",
            "prior_bleeding",
            "labile_inr",
            "medications_for_bleeding",
        )
    )
    s += v["age"] > 65
    s += v["alcoholic_drinks"] >= 8
    return int(s)


@calculator(
    18,
    "heart",
    "HEART Score for Major Cardiac Events",
    "risk",
    "integer",
    [
        AGE,
        choice(
            "history",
            "suspicion from history",
            ("Slightly suspicious", "Moderately suspicious", "Highly suspicious"),
            "Slightly suspicious",
        ),
        choice(
            "electrocardiogram",
            "ECG finding",
            ("Normal", "Non-specific repolarization disturbance", "Significant ST deviation"),
            "Normal",
        ),
        choice(
            "initial_troponin",
            "initial troponin",
            (
                "less than or equal to normal limit",
                "between the normal limit or up to three times the normal limit",
                "greater than three times normal limit",
            ),
            "less than or equal to normal limit",
        ),
        flag("hypertension", "hypertension"),
        flag("hypercholesterolemia", "hypercholesterolemia"),
        flag("diabetes_mellitus", "diabetes mellitus"),
        flag("obesity", "obesity (BMI > 30)"),
        flag("smoking", "current smoker or quit < 3 months"),
        flag("family_with_cvd", "parent or sibling with cardiovascular disease before 65"),
        flag("atherosclerotic_disease", "known atherosclerotic disease (prior MI, PCI/CABG, CVA/TIA, PAD)"),
    ],
)
def _heart(v: dict[str, Any]) -> int:
    """History, ECG, Age, Risk factors, Troponin, 0-2 each (Six et al., Neth Heart J 2008;16:191). Risk factors:
    0 -> 0, 1-2 -> 1, >= 3 or known atherosclerotic disease -> 2."""
    s = ["Slightly suspicious", "Moderately suspicious", "Highly suspicious"].index(v["history"])
    s += ["Normal", "Non-specific repolarization disturbance", "Significant ST deviation"].index(
        v["electrocardiogram"]
    )
    s += 2 if v["age"] >= 65 else 1 if v["age"] >= 45 else 0
    n = sum(
        bool(v[k])
        for k in (
            "hypertension",
            "hypercholesterolemia",
            "diabetes_mellitus",
            "obesity",
            "smoking",
            "family_with_cvd",
        )
    )
    s += 2 if (n >= 3 or v["atherosclerotic_disease"]) else 1 if n >= 1 else 0
    s += [
        "less than or equal to normal limit",
        "between the normal limit or up to three times the normal limit",
        "greater than three times normal limit",
    ].index(v["initial_troponin"])
    return int(s)


@calculator(
    17,
    "rcri",
    "Revised Cardiac Risk Index for Pre-Operative Risk",
    "risk",
    "integer",
    [
        flag("elevated_risk_surgery", "intraperitoneal, intrathoracic or suprainguinal vascular surgery"),
        flag("ischemic_heart_disease", "history of ischemic heart disease"),
        flag("congestive_heart_failure", "history of congestive heart failure"),
        flag("cerebrovascular_disease", "history of stroke or TIA"),
        flag("insulin_treatment", "pre-operative treatment with insulin"),
        num("creatinine", "pre-operative serum creatinine", "conc:creatinine", 0.05, 30),
    ],
)
def _rcri(v: dict[str, Any]) -> int:
    """One point each: high-risk surgery, ischemic heart disease, CHF, cerebrovascular disease, insulin,
    creatinine > 2 mg/dL (Lee et al., Circulation 1999;100:1043)."""
    s = sum(
        bool(v[k])
        for k in (
            "elevated_risk_surgery",
            "ischemic_heart_disease",
            "congestive_heart_failure",
            "cerebrovascular_disease",
            "insulin_treatment",
        )
    )
    return int(s + (v["creatinine"] > 2.0))


@calculator(
    8,
    "wells-pe",
    "Wells' Criteria for Pulmonary Embolism",
    "risk",
    "decimal",
    [
        HR,
        flag("clinical_dvt", "clinical signs and symptoms of DVT"),
        flag("pe_number_one", "PE is the most likely diagnosis"),
        flag("immobilization_3days", "immobilization for at least 3 days"),
        flag("surgery_past_4weeks", "surgery in the previous 4 weeks"),
        flag("previous_pe", "previously documented PE"),
        flag("previous_dvt", "previously documented DVT"),
        flag("hemoptysis", "hemoptysis"),
        flag("malignancy", "malignancy with treatment within 6 months or palliative"),
    ],
)
def _wells_pe(v: dict[str, Any]) -> float:
    """DVT signs 3, PE most likely 3, HR > 100 1.5, immobilisation/surgery 1.5, prior PE/DVT 1.5, hemoptysis 1,
    malignancy 1 (Wells et al., Thromb Haemost 2000;83:416)."""
    s = 3.0 * v["clinical_dvt"] + 3.0 * v["pe_number_one"]
    s += 1.5 * (v["heart_rate"] > 100)
    s += 1.5 * (v["immobilization_3days"] or v["surgery_past_4weeks"])
    s += 1.5 * (v["previous_pe"] or v["previous_dvt"])
    return s + 1.0 * v["hemoptysis"] + 1.0 * v["malignancy"]


@calculator(
    16,
    "wells-dvt",
    "Wells' Criteria for DVT",
    "risk",
    "integer",
    [
        flag("active_cancer", "active cancer"),
        flag("bedridden_or_major_surgery", "bedridden > 3 days or major surgery within 12 weeks"),
        flag("calf_swelling_3cm", "calf swelling > 3 cm compared to the other leg"),
        flag("collateral_veins", "collateral (nonvaricose) superficial veins"),
        flag("leg_swollen", "entire leg swollen"),
        flag("localized_tenderness", "localized tenderness along the deep venous system"),
        flag("pitting_edema", "pitting edema confined to the symptomatic leg"),
        flag("paralysis_or_immobilization", "paralysis, paresis or recent plaster immobilisation of the leg"),
        flag("previous_dvt", "previously documented DVT"),
        flag("alternative_diagnosis", "alternative diagnosis at least as likely as DVT"),
    ],
)
def _wells_dvt(v: dict[str, Any]) -> int:
    """+1 for each of nine criteria, -2 if an alternative diagnosis is as likely (Wells et al., N Engl J Med 2003;349:1227)."""
    keys = (
        "active_cancer",
        "bedridden_or_major_surgery",
        "calf_swelling_3cm",
        "collateral_veins",
        "leg_swollen",
        "localized_tenderness",
        "pitting_edema",
        "paralysis_or_immobilization",
        "previous_dvt",
    )
    return int(sum(bool(v[k]) for k in keys) - 2 * v["alternative_diagnosis"])


@calculator(
    48,
    "perc",
    "PERC Rule for Pulmonary Embolism",
    "diagnosis",
    "integer",
    [
        AGE,
        HR,
        num("oxygen_sat", "oxygen saturation", "percent", 30, 100),
        flag("unilateral_leg_swelling", "unilateral leg swelling"),
        flag("hemoptysis", "hemoptysis"),
        flag("recent_surgery_or_trauma", "surgery or trauma within 4 weeks"),
        flag("previous_pe", "prior PE"),
        flag("previous_dvt", "prior DVT"),
        flag("hormone_use", "oral contraceptives, hormone replacement or estrogen use"),
    ],
)
def _perc(v: dict[str, Any]) -> int:
    """Number of PERC criteria met: age >= 50, HR >= 100, SaO2 < 95%, leg swelling, hemoptysis, recent surgery/trauma,
    prior PE or DVT, hormone use (Kline et al., J Thromb Haemost 2004;2:1247)."""
    s = (v["age"] >= 50) + (v["heart_rate"] >= 100) + (v["oxygen_sat"] < 95)
    s += v["unilateral_leg_swelling"] + v["hemoptysis"] + v["recent_surgery_or_trauma"] + v["hormone_use"]
    s += v["previous_pe"] or v["previous_dvt"]
    return int(s)


@calculator(
    46,
    "framingham-chd",
    "Framingham Risk Score for Hard Coronary Heart Disease",
    "lab",
    "decimal",
    [
        AGE,
        SEX,
        flag("smoker", "current smoker"),
        num("total_cholesterol", "total cholesterol", "conc:cholesterol", 50, 1000),
        num("hdl_cholesterol", "HDL cholesterol", "conc:cholesterol", 5, 300),
        num("sys_bp", "systolic blood pressure", "pressure", 50, 300),
        flag("bp_medicine", "blood pressure treated with medicines"),
    ],
    "%",
)
def _framingham(v: dict[str, Any]) -> float:
    """10-year hard CHD risk (%), ATP III Framingham model: men 1 - 0.9402^exp(L), women 1 - 0.98767^exp(L)
    with sex-specific log coefficients; the age in the age x smoker term is capped at 70 (men) / 78 (women)
    (NCEP ATP III, Circulation 2002;106:3143, appendix)."""
    age, male = v["age"], v["sex"] == "Male"
    la, ltc, lhdl, lsbp = (
        math.log(age),
        math.log(v["total_cholesterol"]),
        math.log(v["hdl_cholesterol"]),
        math.log(v["sys_bp"]),
    )
    smk, med = float(v["smoker"]), float(v["bp_medicine"])
    las = math.log(min(age, 70 if male else 78))
    if male:
        L = (
            52.00961 * la
            + 20.014077 * ltc
            - 0.905964 * lhdl
            + 1.305784 * lsbp
            + 0.241549 * med
            + 12.096316 * smk
            - 4.605038 * la * ltc
            - 2.84367 * las * smk
            - 2.93323 * la * la
            - 172.300168
        )
        return (1.0 - 0.9402 ** math.exp(L)) * 100.0
    L = (
        31.764001 * la
        + 22.465206 * ltc
        - 1.187731 * lhdl
        + 2.552905 * lsbp
        + 0.420251 * med
        + 13.07543 * smk
        - 5.060998 * la * ltc
        - 2.996945 * las * smk
        - 146.5933061
    )
    return (1.0 - 0.98767 ** math.exp(L)) * 100.0


_CAPRINI_FLAGS: dict[str, tuple[str, int]] = {
    "major_surgery_last_month": ("major surgery in the last month", 1),
    "chf_last_month": ("congestive heart failure in the last month", 1),
    "sepsis_last_month": ("sepsis in the last month", 1),
    "pneumonia_last_month": ("pneumonia in the last month", 1),
    "plaster_cast_last_month": ("immobilizing plaster cast in the last month", 2),
    "fracture_last_month": ("hip, pelvis or leg fracture in the last month", 5),
    "stroke_last_month": ("stroke in the last month", 5),
    "multiple_trauma_last_month": ("multiple trauma in the last month", 5),
    "spinal_cord_injury_last_month": ("acute spinal cord injury with paralysis in the last month", 5),
    "varicose_veins": ("varicose veins", 1),
    "current_swollen_legs": ("current swollen legs", 1),
    "central_venous_access": ("current central venous access", 2),
    "previous_dvt": ("history of DVT", 3),
    "previous_pe": ("history of PE", 3),
    "family_history_thrombosis": ("family history of thrombosis", 3),
    "factor_v_leiden": ("positive factor V Leiden", 3),
    "prothrombin_20210a": ("positive prothrombin 20210A", 3),
    "elevated_homocysteine": ("elevated serum homocysteine", 3),
    "lupus_anticoagulant": ("positive lupus anticoagulant", 3),
    "anticardiolipin_antibody": ("elevated anticardiolipin antibody", 3),
    "heparin_induced_thrombocytopenia": ("heparin-induced thrombocytopenia", 3),
    "other_thrombophilia": ("other congenital or acquired thrombophilia", 3),
    "inflammatory_bowel_disease": ("history of inflammatory bowel disease", 1),
    "acute_mi": ("acute myocardial infarction", 1),
    "copd": ("chronic obstructive pulmonary disease", 1),
    "malignancy": ("present or previous malignancy", 2),
}
_CAPRINI_SURGERY = {
    "none": 0,
    "minor": 1,
    "major": 2,
    "laparoscopic": 2,
    "arthroscopic": 2,
    "elective major lower extremity arthroplasty": 5,
}
_CAPRINI_MOBILITY = {"normal": 0, "on bed rest": 1, "confined to bed >72 hours": 2}


@calculator(
    36,
    "caprini",
    "Caprini Score for Venous Thromboembolism (2005)",
    "risk",
    "integer",
    [
        AGE,
        SEX,
        choice("surgery_type", "type of surgery", tuple(_CAPRINI_SURGERY), "none"),
        choice("mobility", "mobility", tuple(_CAPRINI_MOBILITY), "normal"),
        num("bmi", "body mass index", "bmi", 5, 100, default=0.0),
        *[flag(k, d) for k, (d, _) in _CAPRINI_FLAGS.items()],
    ],
)
def _caprini(v: dict[str, Any]) -> int:
    """Caprini 2005 VTE risk assessment: age 41-60 1, 61-74 2, >= 75 3; surgery minor 1, major/laparoscopic/
    arthroscopic (> 45 min) 2, elective lower-extremity arthroplasty 5; bed rest 1, confined > 72 h 2;
    BMI > 25 1; listed history items 1-5 points (Caprini, Dis Mon 2005;51:70)."""
    age = v["age"]
    s = 3 if age >= 75 else 2 if age >= 61 else 1 if age >= 41 else 0
    s += _CAPRINI_SURGERY[v["surgery_type"]] + _CAPRINI_MOBILITY[v["mobility"]]
    s += v["bmi"] > 25
    s += sum(pts for k, (_d, pts) in _CAPRINI_FLAGS.items() if v[k])
    return int(s)
