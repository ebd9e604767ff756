"""Severity, ICU and diagnostic scores: Child-Pugh, MELD Na, FIB-4, Centor, FeverPAIN, GCS, Glasgow-Blatchford,
APACHE II, SOFA, PSI, CURB-65, SIRS and the Charlson Comorbidity Index.

Lab values of the ICU scores that were not measured score 0 points (the published convention: missing
physiology is assumed normal); that is declared per parameter (``default=None``), never implied.
"""

from __future__ import annotations

import math
from typing import Any

from medevals.calculators.base import calculator, choice, flag, num
from medevals.calculators.body import SEX
from medevals.calculators.errors import MissingParameter

AGE = num("age", "age", "age", 0, 120)
HR = num("heart_rate", "heart rate", "rate", 20, 300)
TEMP = num("temperature", "body temperature", "temperature", 20, 45)
SBP = num("sys_bp", "systolic blood pressure", "pressure", 20, 300)
DBP = num("dia_bp", "diastolic blood pressure", "pressure", 5, 250)
RR = num("respiratory_rate", "respiratory rate", "rate", 0, 100)
BUN = num("bun", "blood urea nitrogen", "conc:bun", 0.5, 300)
BILI = num("bilirubin", "total bilirubin", "conc:bilirubin", 0.05, 80)
INR = num("inr", "international normalized ratio", None, 0.5, 20)
CREAT = num("creatinine", "serum creatinine", "conc:creatinine", 0.05, 30)


def _opt(p: Any) -> Any:
    from dataclasses import replace

    return replace(p, default=None)


@calculator(
    15,
    "child-pugh",
    "Child-Pugh Score for Cirrhosis Mortality",
    "severity",
    "integer",
    [
        BILI,
        num("albumin", "serum albumin", "conc:albumin", 0.5, 7),
        INR,
        choice(
            "ascites",
            "ascites (absent when the note does not mention it)",
            ("absent", "slight", "moderate"),
            "absent",
        ),
        choice(
            "encephalopathy",
            "hepatic encephalopathy (none when the note does not mention it)",
            ("none", "grade 1-2", "grade 3-4"),
            "none",
        ),
    ],
)
def _child_pugh(v: dict[str, Any]) -> int:
    """Bilirubin <2/2-3/>3 mg/dL, albumin >3.5/2.8-3.5/<2.8 g/dL, INR <1.7/1.7-2.3/>2.3, ascites and
    encephalopathy none/mild/severe: 1-3 points each (Pugh et al., Br J Surg 1973;60:646)."""
    b, a, i = v["bilirubin"], v["albumin"], v["inr"]
    s = 1 if b < 2 else 2 if b <= 3 else 3
    s += 1 if a > 3.5 else 2 if a >= 2.8 else 3
    s += 1 if i < 1.7 else 2 if i <= 2.3 else 3
    s += ("absent", "slight", "moderate").index(v["ascites"]) + 1
    s += ("none", "grade 1-2", "grade 3-4").index(v["encephalopathy"]) + 1
    return s


@calculator(
    23,
    "meld-na",
    "MELD Na (UNOS/OPTN)",
    "lab",
    "decimal",
    [
        CREAT,
        BILI,
        INR,
        num("sodium", "serum sodium", "conc:sodium", 90, 200),
        flag("dialysis_twice", "dialysis at least twice in the past week"),
        flag("cvvhd", "continuous veno-venous hemodialysis >= 24 h in the past week"),
    ],
)
def _meld_na(v: dict[str, Any]) -> float:
    """UNOS/OPTN MELD(Na) (2016): bounds Cr/bilirubin/INR at >= 1, Cr <= 4 (4 on dialysis), Na 125-137;
    MELD(i) = 0.957 ln Cr + 0.378 ln bili + 1.120 ln INR + 0.643, x10 rounded; if > 11,
    MELD-Na = MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na), capped at 40 (Kim et al., N Engl J Med 2008;359:1018)."""
    cr = min(max(v["creatinine"], 1.0), 4.0)
    if v["dialysis_twice"] or v["cvvhd"]:
        cr = 4.0
    bili, inr = max(v["bilirubin"], 1.0), max(v["inr"], 1.0)
    na = min(max(v["sodium"], 125.0), 137.0)
    meld_i = 0.957 * math.log(cr) + 0.378 * math.log(bili) + 1.120 * math.log(inr) + 0.643
    meld = round(round(meld_i, 1) * 10)
    if meld > 11:
        meld = round(meld + 1.32 * (137 - na) - 0.033 * meld * (137 - na))
    return float(min(meld, 40))


@calculator(
    19,
    "fib-4",
    "Fibrosis-4 (FIB-4) Index for Liver Fibrosis",
    "lab",
    "decimal",
    [
        AGE,
        num("ast", "aspartate aminotransferase", "enzyme", 1, 20000),
        num("alt", "alanine aminotransferase", "enzyme", 1, 20000),
        num("platelet_count", "platelet count", "count", 1000, 2_000_000),
    ],
)
def _fib4(v: dict[str, Any]) -> float:
    """FIB-4 = age x AST / (platelets 10^9/L x sqrt(ALT)) (Sterling et al., Hepatology 2006;43:1317)."""
    return v["age"] * v["ast"] / (v["platelet_count"] / 1000.0 * math.sqrt(v["alt"]))


@calculator(
    20,
    "centor",
    "Centor Score (Modified/McIsaac) for Strep Pharyngitis",
    "severity",
    "integer",
    [
        AGE,
        TEMP,
        flag("cough_absent", "cough absent"),
        flag("tender_lymph_nodes", "tender/swollen anterior cervical lymph nodes"),
        flag("exudate_swelling_tonsils", "exudate or swelling on tonsils"),
    ],
)
def _centor(v: dict[str, Any]) -> int:
    """Age 3-14 +1, 15-44 0, >= 45 -1; exudate, nodes, temperature > 38 C, absent cough +1 each
    (McIsaac et al., CMAJ 1998;158:75)."""
    age = v["age"]
    s = 1 if 3 <= age <= 14 else -1 if age >= 45 else 0
    s += (
        v["exudate_swelling_tonsils"]
        + v["tender_lymph_nodes"]
        + (v["temperature"] > 38.0)
        + v["cough_absent"]
    )
    return int(s)


@calculator(
    33,
    "feverpain",
    "FeverPAIN Score for Strep Pharyngitis",
    "diagnosis",
    "integer",
    [
        flag("fever_24_hours", "fever in past 24 hours"),
        flag("purulent_tonsils", "purulence on tonsils"),
        flag("symptom_onset", "attended within 3 days of symptom onset"),
        flag("severe_tonsil_inflammation", "severely inflamed tonsils"),
        flag("cough_coryza_absent", "no cough or coryza"),
    ],
)
def _feverpain(v: dict[str, Any]) -> int:
    """One point each: Fever, Purulence, Attend rapidly (<= 3 days), Inflamed tonsils, No cough/coryza
    (Little et al., BMJ 2013;347:f5806)."""
    return int(sum(bool(x) for x in v.values()))


_EYE = {
    "eyes open spontaneously": 4,
    "eye opening to verbal command": 3,
    "eye opening to pain": 2,
    "no eye opening": 1,
    "not testable": 1,
}
_VERBAL = {
    "oriented": 5,
    "confused": 4,
    "inappropriate words": 3,
    "incomprehensible sounds": 2,
    "no verbal response": 1,
    "not testable": 1,
}
_MOTOR = {
    "obeys commands": 6,
    "localizes pain": 5,
    "withdrawal from pain": 4,
    "flexion to pain": 3,
    "extension to pain": 2,
    "no motor response": 1,
}


@calculator(
    21,
    "gcs",
    "Glasgow Coma Score (GCS)",
    "severity",
    "integer",
    [
        choice("best_eye_response", "best eye response", tuple(_EYE)),
        choice("best_verbal_response", "best verbal response", tuple(_VERBAL)),
        choice("best_motor_response", "best motor response", tuple(_MOTOR)),
    ],
)
def _gcs(v: dict[str, Any]) -> int:
    """Eye 1-4 + verbal 1-5 + motor 1-6; a non-testable component scores 1 as on MDCalc
    (Teasdale & Jennett, Lancet 1974;2:81)."""
    return (
        _EYE[v["best_eye_response"]] + _VERBAL[v["best_verbal_response"]] + _MOTOR[v["best_motor_response"]]
    )


@calculator(
    27,
    "glasgow-blatchford",
    "Glasgow-Blatchford Bleeding Score (GBS)",
    "risk",
    "integer",
    [
        BUN,
        num("hemoglobin", "hemoglobin", "conc:hemoglobin", 1, 25),
        SEX,
        SBP,
        HR,
        flag("melena_present", "melena"),
        flag("syncope", "recent syncope"),
        flag("hepatic_disease_history", "hepatic disease history"),
        flag("cardiac_failure", "cardiac failure present"),
    ],
)
def _gbs(v: dict[str, Any]) -> int:
    """BUN 18.2-22.3 2, 22.4-28 3, 28-70 4, > 70 mg/dL 6; Hb (men 12-13 1, 10-12 3, < 10 6; women 10-12 1,
    < 10 6); SBP 100-109 1, 90-99 2, < 90 3; HR >= 100 1; melena 1; syncope 2; hepatic disease 2;
    cardiac failure 2 (Blatchford et al., Lancet 2000;356:1318)."""
    b = v["bun"]
    s = 6 if b > 70 else 4 if b >= 28 else 3 if b >= 22.4 else 2 if b >= 18.2 else 0
    hb, male = v["hemoglobin"], v["sex"] == "Male"
    if male:
        s += 6 if hb < 10 else 3 if hb < 12 else 1 if hb < 13 else 0
    else:
        s += 6 if hb < 10 else 1 if hb < 12 else 0
    sbp = v["sys_bp"]
    s += 3 if sbp < 90 else 2 if sbp < 100 else 1 if sbp < 110 else 0
    s += v["heart_rate"] >= 100
    s += v["melena_present"] + 2 * v["syncope"] + 2 * v["hepatic_disease_history"] + 2 * v["cardiac_failure"]
    return int(s)


def _band(x: float, table: list[tuple[float, int]], below: int) -> int:
    """Points for the first threshold x >= t in a descending table, else ``below``."""
    for t, pts in table:
        if x >= t:
            return pts
    return below


@calculator(
    28,
    "apache-ii",
    "APACHE II Score",
    "risk",
    "integer",
    [
        AGE,
        TEMP,
        num(
            "mean_arterial_pressure",
            "mean arterial pressure (else computed from SBP/DBP)",
            "pressure",
            10,
            250,
            default=None,
        ),
        _opt(SBP),
        _opt(DBP),
        HR,
        RR,
        num("ph", "arterial pH", None, 6.5, 8.0),
        num("sodium", "serum sodium", "conc:sodium", 90, 200),
        num("potassium", "serum potassium", "conc:potassium", 1, 10),
        CREAT,
        num("hematocrit", "hematocrit", "percent", 5, 80),
        num("wbc", "white blood cell count", "count", 10, 500_000),
        num("gcs", "Glasgow Coma Scale", None, 3, 15),
        num("fio2", "FiO2", "percent", 21, 100),
        num("pao2", "PaO2 (used when FiO2 < 50%)", "pressure", 10, 700, default=None),
        num("a_a_gradient", "A-a gradient (used when FiO2 >= 50%)", "pressure", 0, 800, default=None),
        flag("acute_renal_failure", "acute renal failure (doubles creatinine points)"),
        flag("chronic_renal_failure", "chronic renal failure"),
        flag(
            "organ_failure_or_immunocompromise", "history of severe organ insufficiency or immunocompromise"
        ),
        choice("surgery_type", "admission type", ("Nonoperative", "Emergency", "Elective"), "Nonoperative"),
    ],
)
def _apache(v: dict[str, Any]) -> int:
    """Acute Physiology Score (12 variables, worst in 24 h) + age points + chronic health points
    (Knaus et al., Crit Care Med 1985;13:818)."""
    s = _band(v["age"], [(75, 6), (65, 5), (55, 3), (45, 2)], 0)
    if v["organ_failure_or_immunocompromise"]:
        s += 2 if v["surgery_type"] == "Elective" else 5
    s += _band(v["temperature"], [(41, 4), (39, 3), (38.5, 1), (36, 0), (34, 1), (32, 2), (30, 3)], 4)
    m = v["mean_arterial_pressure"]
    if m is None:
        if v["sys_bp"] is None or v["dia_bp"] is None:
            raise MissingParameter(
                "apache-ii", "mean_arterial_pressure", "needs MAP or both systolic and diastolic pressure"
            )
        m = 2.0 / 3.0 * v["dia_bp"] + 1.0 / 3.0 * v["sys_bp"]
    s += _band(m, [(160, 4), (130, 3), (110, 2), (70, 0), (50, 2)], 4)
    s += _band(v["heart_rate"], [(180, 4), (140, 3), (110, 2), (70, 0), (55, 2), (40, 3)], 4)
    s += _band(v["respiratory_rate"], [(50, 4), (35, 3), (25, 1), (12, 0), (10, 1), (6, 2)], 4)
    if v["fio2"] >= 50:
        g = v["a_a_gradient"]
        if g is None:
            raise MissingParameter("apache-ii", "a_a_gradient", "needed when FiO2 >= 50%")
        s += _band(g, [(500, 4), (350, 3), (200, 2)], 0)
    else:
        p = v["pao2"]
        if p is None:
            raise MissingParameter("apache-ii", "pao2", "needed when FiO2 < 50%")
        s += 0 if p > 70 else _band(p, [(61, 1), (55, 3)], 4)
    s += _band(v["ph"], [(7.7, 4), (7.6, 3), (7.5, 1), (7.33, 0), (7.25, 2), (7.15, 3)], 4)
    s += _band(v["sodium"], [(180, 4), (160, 3), (155, 2), (150, 1), (130, 0), (120, 2), (111, 3)], 4)
    s += _band(v["potassium"], [(7, 4), (6, 3), (5.5, 1), (3.5, 0), (3, 1), (2.5, 2)], 4)
    cp = _band(v["creatinine"], [(3.5, 4), (2, 3), (1.5, 2), (0.6, 0)], 2)
    s += cp * 2 if v["acute_renal_failure"] else cp
    s += _band(v["hematocrit"], [(60, 4), (50, 2), (46, 1), (30, 0), (20, 2)], 4)
    s += _band(v["wbc"] / 1000.0, [(40, 4), (20, 2), (15, 1), (3, 0), (1, 2)], 4)
    s += 15 - int(v["gcs"])
    return int(s)


@calculator(
    43,
    "sofa",
    "Sequential Organ Failure Assessment (SOFA) Score",
    "risk",
    "integer",
    [
        _opt(num("pao2", "PaO2", "pressure", 10, 700)),
        _opt(num("fio2", "FiO2", "percent", 21, 100)),
        flag("mechanical_ventilation", "on mechanical ventilation"),
        flag("cpap", "on continuous positive airway pressure"),
        _opt(num("platelet_count", "platelet count", "count", 100, 2_000_000)),
        _opt(num("gcs", "Glasgow Coma Scale", None, 3, 15)),
        _opt(BILI),
        _opt(
            num("mean_arterial_pressure", "mean arterial pressure (else from SBP/DBP)", "pressure", 10, 250)
        ),
        _opt(SBP),
        _opt(DBP),
        flag("hypotension", "hypotension"),
        _opt(num("dopamine", "dopamine", "infusion", 0, 100)),
        _opt(num("dobutamine", "dobutamine", "infusion", 0, 100)),
        _opt(num("epinephrine", "epinephrine", "infusion", 0, 10)),
        _opt(num("norepinephrine", "norepinephrine", "infusion", 0, 10)),
        _opt(CREAT),
        _opt(num("urine_output", "urine output", "urine_output", 0, 20000)),
    ],
)
def _sofa(v: dict[str, Any]) -> int:
    """Six organ systems 0-4 each; respiratory 3-4 only with ventilatory support; unmeasured systems score 0
    (Vincent et al., Intensive Care Med 1996;22:707)."""
    s = 0
    if v["pao2"] is not None and v["fio2"] is not None:
        ratio = v["pao2"] / (v["fio2"] / 100.0)
        vent = v["mechanical_ventilation"] or v["cpap"]
        if ratio < 100 and vent:
            s += 4
        elif ratio < 200 and vent:
            s += 3
        elif ratio < 300:
            s += 2
        elif ratio < 400:
            s += 1
    if v["platelet_count"] is not None:
        p = v["platelet_count"] / 1000.0
        s += 4 if p < 20 else 3 if p < 50 else 2 if p < 100 else 1 if p < 150 else 0
    if v["gcs"] is not None:
        g = v["gcs"]
        s += 0 if g >= 15 else 1 if g >= 13 else 2 if g >= 10 else 3 if g >= 6 else 4
    if v["bilirubin"] is not None:
        b = v["bilirubin"]
        s += 4 if b >= 12 else 3 if b >= 6 else 2 if b >= 2 else 1 if b >= 1.2 else 0
    dop, dob, epi, nor = (v[k] or 0.0 for k in ("dopamine", "dobutamine", "epinephrine", "norepinephrine"))
    m = v["mean_arterial_pressure"]
    if m is None and v["sys_bp"] is not None and v["dia_bp"] is not None:
        m = 2.0 / 3.0 * v["dia_bp"] + 1.0 / 3.0 * v["sys_bp"]
    if dop > 15 or epi > 0.1 or nor > 0.1:
        s += 4
    elif dop > 5 or epi > 0 or nor > 0:
        s += 3
    elif dop > 0 or dob > 0:
        s += 2
    elif (m is not None and m < 70) or v["hypotension"]:
        s += 1
    renal = 0
    if v["creatinine"] is not None:
        c = v["creatinine"]
        renal = 4 if c >= 5 else 3 if c >= 3.5 else 2 if c >= 2 else 1 if c >= 1.2 else 0
    if v["urine_output"] is not None:
        u = v["urine_output"]
        renal = max(renal, 4 if u < 200 else 3 if u < 500 else 0)
    return int(s + renal)


@calculator(
    29,
    "psi",
    "PSI Score: Pneumonia Severity Index for CAP",
    "severity",
    "integer",
    [
        AGE,
        SEX,
        flag("nursing_home_resident", "nursing home resident"),
        flag("neoplastic_disease", "neoplastic disease"),
        flag("liver_disease", "liver disease history"),
        flag("chf", "congestive heart failure history"),
        flag("cerebrovascular_disease", "cerebrovascular disease history"),
        flag("renal_disease", "renal disease history"),
        flag("altered_mental_status", "altered mental status"),
        _opt(RR),
        _opt(SBP),
        _opt(TEMP),
        _opt(HR),
        _opt(num("ph", "arterial pH", None, 6.5, 8.0)),
        _opt(BUN),
        _opt(num("sodium", "serum sodium", "conc:sodium", 90, 200)),
        _opt(num("glucose", "glucose", "conc:glucose", 10, 3000)),
        _opt(num("hematocrit", "hematocrit", "percent", 5, 80)),
        _opt(num("pao2", "partial pressure of oxygen", "pressure", 10, 700)),
        flag("pleural_effusion", "pleural effusion on x-ray"),
    ],
)
def _psi(v: dict[str, Any]) -> int:
    """PORT/PSI: age (female -10), nursing home 10, neoplasm 30, liver 20, CHF 10, cerebrovascular 10, renal 10,
    AMS 20, RR >= 30 20, SBP < 90 20, T < 35 or >= 40 C 15, HR >= 125 10, pH < 7.35 30, BUN >= 30 20, Na < 130 20,
    glucose >= 250 10, Hct < 30 10, PaO2 < 60 10, effusion 10; unmeasured values score 0 (Fine et al., N Engl J Med 1997;336:243)."""
    s = int(v["age"]) - (10 if v["sex"] == "Female" else 0)
    s += 10 * v["nursing_home_resident"] + 30 * v["neoplastic_disease"] + 20 * v["liver_disease"]
    s += 10 * (v["chf"] + v["cerebrovascular_disease"] + v["renal_disease"]) + 20 * v["altered_mental_status"]

    def lt(k: str, t: float) -> bool:
        return v[k] is not None and v[k] < t

    def ge(k: str, t: float) -> bool:
        return v[k] is not None and v[k] >= t

    s += (
        20 * ge("respiratory_rate", 30)
        + 20 * lt("sys_bp", 90)
        + 15 * (lt("temperature", 35) or ge("temperature", 40))
    )
    s += 10 * ge("heart_rate", 125) + 30 * lt("ph", 7.35) + 20 * ge("bun", 30) + 20 * lt("sodium", 130)
    s += (
        10 * ge("glucose", 250) + 10 * lt("hematocrit", 30) + 10 * lt("pao2", 60) + 10 * v["pleural_effusion"]
    )
    return int(s)


@calculator(
    45,
    "curb-65",
    "CURB-65 Score for Pneumonia Severity",
    "risk",
    "integer",
    [AGE, flag("confusion", "confusion"), _opt(BUN), _opt(RR), _opt(SBP), _opt(DBP)],
)
def _curb65(v: dict[str, Any]) -> int:
    """Confusion, BUN > 19 mg/dL (urea > 7 mmol/L), RR >= 30, SBP < 90 or DBP <= 60, age >= 65: 1 each
    (Lim et al., Thorax 2003;58:377)."""
    s = v["confusion"] + (v["age"] >= 65)
    s += v["bun"] is not None and v["bun"] > 19
    s += v["respiratory_rate"] is not None and v["respiratory_rate"] >= 30
    s += (v["sys_bp"] is not None and v["sys_bp"] < 90) or (v["dia_bp"] is not None and v["dia_bp"] <= 60)
    return int(s)


@calculator(
    51,
    "sirs",
    "SIRS Criteria",
    "diagnosis",
    "integer",
    [
        _opt(TEMP),
        _opt(HR),
        _opt(RR),
        _opt(num("paco2", "PaCO2", "pressure", 5, 200)),
        _opt(num("wbc", "white blood cell count", "count", 10, 500_000)),
        flag("bands_over_10", "band forms > 10%"),
    ],
)
def _sirs(v: dict[str, Any]) -> int:
    """Criteria met (0-4): T > 38 or < 36 C; HR > 90; RR > 20 or PaCO2 < 32 mm Hg; WBC > 12000 or < 4000/uL or
    bands > 10% (Bone et al., Chest 1992;101:1644)."""
    t, hr, rr, pc, w = (v[k] for k in ("temperature", "heart_rate", "respiratory_rate", "paco2", "wbc"))
    s = t is not None and (t > 38 or t < 36)
    s += hr is not None and hr > 90
    s += (rr is not None and rr > 20) or (pc is not None and pc < 32)
    s += (w is not None and (w > 12000 or w < 4000)) or v["bands_over_10"]
    return int(s)


@calculator(
    32,
    "cci",
    "Charlson Comorbidity Index (CCI)",
    "risk",
    "integer",
    [
        AGE,
        flag("mi", "myocardial infarction"),
        flag("chf", "congestive heart failure"),
        flag("peripheral_vascular_disease", "peripheral vascular disease"),
        flag("cva", "cerebrovascular accident"),
        flag("tia", "transient ischemic attack"),
        flag("dementia", "dementia"),
        flag("copd", "chronic pulmonary disease"),
        flag("connective_tissue_disease", "connective tissue disease"),
        flag("peptic_ulcer_disease", "peptic ulcer disease"),
        choice("liver_disease", "liver disease", ("none", "mild", "moderate to severe"), "none"),
        choice(
            "diabetes_mellitus",
            "diabetes",
            ("none or diet-controlled", "uncomplicated", "end-organ damage"),
            "none or diet-controlled",
        ),
        flag("hemiplegia", "hemiplegia"),
        flag("moderate_to_severe_ckd", "moderate to severe chronic kidney disease"),
        choice("solid_tumor", "solid tumor", ("none", "localized", "metastatic"), "none"),
        flag("leukemia", "leukemia"),
        flag("lymphoma", "lymphoma"),
        flag("aids", "AIDS"),
    ],
)
def _cci(v: dict[str, Any]) -> int:
    """Age < 50 0, 50-59 1, 60-69 2, 70-79 3, >= 80 4; MI, CHF, PVD, CVA/TIA, dementia, COPD, CTD, PUD, mild liver,
    uncomplicated DM 1; hemiplegia, CKD, end-organ DM, localized tumor, leukemia, lymphoma 2; moderate-severe
    liver 3; metastatic tumor, AIDS 6 (Charlson et al., J Chronic Dis 1987;40:373; age-adjusted 1994)."""
    age = v["age"]
    s = 4 if age >= 80 else 3 if age >= 70 else 2 if age >= 60 else 1 if age >= 50 else 0
    s += sum(
        bool(v[k])
        for k in (
            "mi",
            "chf",
            "peripheral_vascular_disease",
            "dementia",
            "copd",
            "connective_tissue_disease",
            "peptic_ulcer_disease",
        )
    )
    s += v["cva"] or v["tia"]
    s += {"none": 0, "mild": 1, "moderate to severe": 3}[v["liver_disease"]]
    s += {"none or diet-controlled": 0, "uncomplicated": 1, "end-organ damage": 2}[v["diabetes_mellitus"]]
    s += 2 * (v["hemiplegia"] + v["moderate_to_severe_ckd"] + v["leukemia"] + v["lymphoma"]) + 6 * v["aids"]
    s += {"none": 0, "localized": 2, "metastatic": 6}[v["solid_tumor"]]
    return int(s)
