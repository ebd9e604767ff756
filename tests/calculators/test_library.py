"""Calculator library: worked examples from the published sources / reference calculators, units, typed errors."""

import datetime as dt

import pytest

from medevals.calculators import (
    InvalidValue,
    MissingParameter,
    OutOfRange,
    UnitError,
    UnknownCalculator,
    all_calculators,
    compute,
    get,
)
from medevals.calculators.units import convert_concentration


def test_all_55_medcalc_bench_calculators_are_present():
    ids = {c.id for c in all_calculators()}
    expected = {
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        13,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        23,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
    }
    expected |= {
        31,
        32,
        33,
        36,
        38,
        39,
        40,
        43,
        44,
        45,
        46,
        48,
        49,
        51,
        56,
        57,
        58,
        59,
        60,
        61,
        62,
        63,
        64,
        65,
    }
    expected |= {66, 67, 68, 69}
    assert ids == expected and len(ids) == 55
    for c in all_calculators():
        assert c.citation, f"{c.slug} has no docstring citing its formula"
        assert c.json_schema()["type"] == "object"


# (calculator, inputs, expected, tolerance) - worked examples (hand-computed from the published formulas
# or the paper's/ MDCalc's example where one is given)
EXAMPLES = [
    ("bmi", {"weight": 70, "height": 175}, 22.857, 0.01),
    ("bsa", {"weight": 70, "height": 175}, 1.8447, 0.001),  # Mosteller sqrt(175*70/3600)
    ("map", {"sys_bp": 120, "dia_bp": 80}, 93.333, 0.01),
    ("ibw", {"sex": "Male", "height": [70, "in"]}, 73.0, 0.01),  # Devine: 50 + 2.3*10
    ("ibw", {"sex": "Female", "height": [60, "in"]}, 45.5, 0.01),
    ("abw", {"sex": "Male", "weight": 100, "height": [70, "in"]}, 83.8, 0.01),  # 73 + 0.4*27
    ("target-weight", {"target_bmi": 25, "height": 180}, 81.0, 0.01),
    ("maintenance-fluids", {"weight": 25}, 65.0, 1e-9),  # 40 + 20 + 5
    ("maintenance-fluids", {"weight": 8}, 32.0, 1e-9),
    # Cockcroft-Gault (1976 paper form): 60 y male, 72 kg (BMI normal, IBW > 72 -> 72), SCr 1.0
    (
        "cockcroft-gault",
        {"age": 60, "sex": "Male", "weight": 72, "height": 190, "creatinine": 1.0},
        80.0,
        0.01,
    ),
    # CKD-EPI 2021: 50 y female SCr 1.0 -> 68 (Inker 2021 equation; MDCalc gives 68)
    ("ckd-epi-2021", {"age": 50, "sex": "Female", "creatinine": 1.0}, 68.6, 0.1),
    ("ckd-epi-2021", {"age": 50, "sex": "Male", "creatinine": [88.4, "µmol/L"]}, 91.7, 0.2),
    ("mdrd", {"age": 60, "sex": "Male", "creatinine": 1.0}, 76.3, 0.1),  # 175 * 60^-0.203
    ("mdrd", {"age": 60, "sex": "Female", "creatinine": 1.0, "race": "Black"}, 68.6, 0.1),
    ("fena", {"sodium": 140, "creatinine": 2.0, "urine_sodium": 20, "urine_creatinine": 100}, 0.2857, 1e-3),
    ("qtc-bazett", {"heart_rate": 60, "qt_interval": 400}, 400.0, 1e-9),
    ("qtc-bazett", {"heart_rate": 90, "qt_interval": 360}, 440.9, 0.1),
    ("qtc-fridericia", {"heart_rate": 90, "qt_interval": 360}, 412.1, 0.1),
    ("qtc-framingham", {"heart_rate": 90, "qt_interval": 360}, 411.3, 0.1),
    ("qtc-hodges", {"heart_rate": 90, "qt_interval": 360}, 412.5, 0.01),
    ("qtc-rautaharju", {"heart_rate": 90, "qt_interval": 360}, 420.0, 0.01),
    ("anion-gap", {"sodium": 140, "chloride": 104, "bicarbonate": 24}, 12.0, 1e-9),
    ("delta-gap", {"sodium": 140, "chloride": 100, "bicarbonate": 10}, 18.0, 1e-9),
    ("delta-ratio", {"sodium": 140, "chloride": 100, "bicarbonate": 10}, 18 / 14, 1e-9),
    (
        "albumin-corrected-anion-gap",
        {"sodium": 140, "chloride": 104, "bicarbonate": 24, "albumin": 2.0},
        17.0,
        1e-9,
    ),
    (
        "albumin-corrected-delta-gap",
        {"sodium": 140, "chloride": 104, "bicarbonate": 24, "albumin": 2.0},
        5.0,
        1e-9,
    ),
    (
        "albumin-corrected-delta-ratio",
        {"sodium": 140, "chloride": 104, "bicarbonate": 14, "albumin": 2.0},
        1.5,
        1e-9,
    ),
    ("calcium-correction", {"calcium": 8.0, "albumin": 2.0}, 9.6, 1e-9),
    ("sodium-correction", {"sodium": 130, "glucose": 600}, 142.0, 1e-9),
    ("serum-osmolality", {"sodium": 140, "bun": 28, "glucose": 180}, 300.0, 1e-9),
    ("homa-ir", {"insulin": 10, "glucose": 100}, 2.469, 1e-3),
    ("ldl", {"total_cholesterol": 200, "hdl_cholesterol": 50, "triglycerides": 150}, 120.0, 1e-9),
    ("free-water-deficit", {"age": 40, "sex": "Male", "weight": 70, "sodium": 160}, 6.0, 1e-9),
    ("free-water-deficit", {"age": 70, "sex": "Female", "weight": 70, "sodium": 160}, 4.5, 1e-9),
    ("fib-4", {"age": 50, "ast": 40, "alt": 25, "platelet_count": 200000}, 2.0, 1e-9),
    (
        "steroid-conversion",
        {"input_steroid": "PredniSONE PO", "input_dose": 10, "target_steroid": "Dexamethasone IV"},
        1.5,
        1e-9,
    ),
    (
        "steroid-conversion",
        {"input_steroid": "Hydrocortisone IV", "input_dose": 100, "target_steroid": "MethylPrednisoLONE IV"},
        20.0,
        1e-9,
    ),
    ("mme", {"oxycodone_dose": 10, "oxycodone_doses_per_day": 4}, 60.0, 1e-9),
    (
        "mme",
        {
            "fentanyl_patch_dose": 25,
            "fentanyl_patch_doses_per_day": 1,
            "morphine_dose": 15,
            "morphine_doses_per_day": 2,
        },
        90.0,
        1e-9,
    ),
    ("meld-na", {"creatinine": 1.0, "bilirubin": 1.0, "inr": 1.0, "sodium": 137}, 6.0, 1e-9),
    (
        "meld-na",
        {"creatinine": 2.0, "bilirubin": 3.0, "inr": 1.8, "sodium": 128},
        29.0,
        1e-9,
    ),  # MELD(i) 2.38 -> 24; 24 + 11.88 - 7.13
    ("wells-pe", {"heart_rate": 110, "clinical_dvt": True, "hemoptysis": True}, 5.5, 1e-9),
]


@pytest.mark.parametrize("slug,inputs,expected,tol", EXAMPLES)
def test_worked_examples(slug, inputs, expected, tol):
    assert compute(slug, inputs) == pytest.approx(expected, abs=tol)


SCORES = [
    ("cha2ds2-vasc", {"age": 76, "sex": "Female", "hypertension": True, "stroke": True, "tia": True}, 6),
    ("cha2ds2-vasc", {"age": 40, "sex": "Male"}, 0),
    ("has-bled", {"age": 70, "hypertension": True, "alcoholic_drinks": 10}, 3),
    (
        "heart",
        {"age": 66, "history": "Highly suspicious", "electrocardiogram": "Normal", "hypertension": True},
        5,
    ),
    ("heart", {"age": 30, "atherosclerotic_disease": True}, 2),
    ("rcri", {"elevated_risk_surgery": True, "creatinine": 2.5}, 2),
    ("rcri", {"creatinine": [150, "µmol/L"]}, 0),  # 1.33 mg/dL
    ("wells-dvt", {"active_cancer": True, "leg_swollen": True, "alternative_diagnosis": True}, 0),
    ("perc", {"age": 55, "heart_rate": 80, "oxygen_sat": 93}, 2),
    (
        "child-pugh",
        {"bilirubin": 2.5, "albumin": 3.0, "inr": 1.5, "ascites": "slight", "encephalopathy": "none"},
        8,
    ),
    ("child-pugh", {"bilirubin": 1.0, "albumin": 4.0, "inr": 1.0}, 5),
    ("centor", {"age": 10, "temperature": [101, "°F"], "cough_absent": True}, 3),
    ("centor", {"age": 50, "temperature": 37}, -1),
    ("feverpain", {"fever_24_hours": True, "purulent_tonsils": True}, 2),
    (
        "gcs",
        {
            "best_eye_response": "eyes open spontaneously",
            "best_verbal_response": "oriented",
            "best_motor_response": "obeys commands",
        },
        15,
    ),
    (
        "gcs",
        {
            "best_eye_response": "no eye opening",
            "best_verbal_response": "no verbal response",
            "best_motor_response": "no motor response",
        },
        3,
    ),
    (
        "glasgow-blatchford",
        {"bun": 30, "hemoglobin": 11, "sex": "Male", "sys_bp": 95, "heart_rate": 105, "melena_present": True},
        4 + 3 + 2 + 1 + 1,
    ),
    (
        "curb-65",
        {"age": 70, "confusion": True, "bun": 25, "respiratory_rate": 32, "sys_bp": 85, "dia_bp": 50},
        5,
    ),
    ("sirs", {"temperature": 38.5, "heart_rate": 100, "respiratory_rate": 18, "wbc": 8000}, 2),
    (
        "psi",
        {"age": 70, "sex": "Female", "nursing_home_resident": True, "respiratory_rate": 32},
        60 + 10 + 20,
    ),
    (
        "cci",
        {"age": 65, "mi": True, "diabetes_mellitus": "end-organ damage", "solid_tumor": "metastatic"},
        2 + 1 + 2 + 6,
    ),
    (
        "sofa",
        {
            "pao2": 80,
            "fio2": 50,
            "mechanical_ventilation": True,
            "platelet_count": 90000,
            "gcs": 12,
            "bilirubin": 2.5,
            "creatinine": 2.5,
        },
        3 + 2 + 2 + 2 + 2,
    ),
    (
        "caprini",
        {"age": 65, "sex": "Female", "surgery_type": "major", "previous_dvt": True, "bmi": 28},
        2 + 2 + 3 + 1,
    ),
]


@pytest.mark.parametrize("slug,inputs,expected", SCORES)
def test_point_scores(slug, inputs, expected):
    assert compute(slug, inputs) == expected


def test_apache_ii_example():
    # 70 y, T 38.6 (1), MAP 100 (0), HR 115 (2), RR 26 (1), FiO2 40% PaO2 65 (1), pH 7.30 (2), Na 135 (0),
    # K 3.2 (1), Cr 1.6 no ARF (2), Hct 45 (0), WBC 16k (1), GCS 13 (2), age 5, no chronic disease -> 18
    v = {
        "age": 70, "temperature": 38.6, "mean_arterial_pressure": 100, "heart_rate": 115, "respiratory_rate": 26,
        "fio2": 40, "pao2": 65, "ph": 7.30, "sodium": 135, "potassium": 3.2, "creatinine": 1.6, "hematocrit": 45,
        "wbc": 16000, "gcs": 13,
    }  # fmt: skip
    assert compute("apache-ii", v) == 18
    assert compute("apache-ii", {**v, "acute_renal_failure": True}) == 20
    with pytest.raises(MissingParameter):
        compute("apache-ii", {k: x for k, x in v.items() if k != "pao2"})


def test_framingham_reference_case():
    # ATP III model: 55-year-old male smoker, TC 213, HDL 50, SBP 120 untreated -> about 10%
    r = compute(
        "framingham-chd",
        {
            "age": 55,
            "sex": "Male",
            "smoker": True,
            "total_cholesterol": 213,
            "hdl_cholesterol": 50,
            "sys_bp": 120,
        },
    )
    assert 8 < r < 13
    f = compute(
        "framingham-chd",
        {"age": 55, "sex": "Female", "total_cholesterol": 213, "hdl_cholesterol": 50, "sys_bp": 120},
    )
    assert 0 < f < 2


def test_pregnancy_dates():
    # calendar Naegele: 01/01/2024 + 1 y - 3 mo + 7 d = 10/08/2024; +4 days for a 32-day cycle
    assert compute("due-date", {"menstrual_date": "01/01/2024", "cycle_length": 28}) == dt.date(2024, 10, 8)
    assert compute("due-date", {"menstrual_date": "2024-01-01", "cycle_length": 32}) == dt.date(2024, 10, 12)
    assert compute("due-date", {"menstrual_date": "05/31/2023", "cycle_length": 28}) == dt.date(2024, 3, 7)
    assert compute("conception-date", {"menstrual_date": "01/01/2024"}) == dt.date(2024, 1, 15)
    assert compute("conception-date", {"menstrual_date": "01/01/2024", "cycle_length": 21}) == dt.date(
        2024, 1, 8
    )
    assert compute("gestational-age", {"menstrual_date": "01/01/2024", "current_date": "03/01/2024"}) == (
        8,
        4,
    )
    with pytest.raises(OutOfRange):
        compute("gestational-age", {"menstrual_date": "03/01/2024", "current_date": "01/01/2024"})


def test_units_are_converted_explicitly():
    assert convert_concentration(88.4, "µmol/L", "creatinine") == pytest.approx(1.0, rel=1e-3)
    assert convert_concentration(1.0, "mg/dL", "creatinine", "umol/L") == pytest.approx(88.4, rel=1e-3)
    assert convert_concentration(5.55, "mmol/L", "glucose") == pytest.approx(100, rel=1e-2)
    assert convert_concentration(2.5, "mmol/L", "calcium") == pytest.approx(10.0, rel=1e-2)
    assert convert_concentration(5.0, "mEq/L", "calcium", "mmol/L") == pytest.approx(2.5)
    assert convert_concentration(40, "g/L", "albumin") == pytest.approx(4.0)
    assert compute("bmi", {"weight": [154.3, "lbs"], "height": [1.75, "m"]}) == pytest.approx(22.85, abs=0.02)
    assert compute(
        "bmi", {"weight": 70, "weight_unit": "kg", "height": 69, "height_unit": "in"}
    ) == pytest.approx(22.79, abs=0.02)
    mg = compute("ckd-epi-2021", {"age": 60, "sex": "Male", "creatinine": 1.2})
    umol = compute(
        "ckd-epi-2021", {"age": 60, "sex": "Male", "creatinine": {"value": 106.08, "unit": "µmol/L"}}
    )
    assert mg == pytest.approx(umol, rel=1e-3)


def test_typed_errors_never_default_silently():
    with pytest.raises(MissingParameter) as e:
        compute("ckd-epi-2021", {"age": 60, "sex": "Male"})
    assert e.value.param == "creatinine"
    with pytest.raises(OutOfRange):
        compute("ckd-epi-2021", {"age": 60, "sex": "Male", "creatinine": 95})  # umol/L value given as mg/dL
    with pytest.raises(UnitError):
        compute("ckd-epi-2021", {"age": 60, "sex": "Male", "creatinine": [1.0, "beats per minute"]})
    with pytest.raises(UnitError):
        compute("bmi", {"weight": [70, "stone-ish"], "height": 170})
    with pytest.raises(InvalidValue):
        compute("bmi", {"weight": "heavy", "height": 170})
    with pytest.raises(InvalidValue):
        compute("bmi", {"weight": 70, "height": 170, "mass": 3})
    with pytest.raises(InvalidValue):
        compute(
            "gcs",
            {
                "best_eye_response": "blinks",
                "best_verbal_response": "oriented",
                "best_motor_response": "obeys commands",
            },
        )
    with pytest.raises(UnknownCalculator):
        get("no-such-calculator")
    with pytest.raises(OutOfRange):
        compute("delta-ratio", {"sodium": 140, "chloride": 100, "bicarbonate": 24})
    with pytest.raises(MissingParameter):
        compute("mme", {})
    with pytest.raises(UnitError):
        compute("meld-na", {"creatinine": 1, "bilirubin": 1, "inr": [1.2, "mg/dL"], "sodium": 137})


def test_forgiving_spellings_that_are_unambiguous():
    assert compute("ibw", {"sex": "f", "height": [60, "in"]}) == pytest.approx(45.5)
    assert compute("ibw", {"sex": "MALE", "height": [60, "in"]}) == pytest.approx(50.0)
    assert compute("due-date", {"menstrual_date": "01/01/2024", "cycle_length": [28, "days"]}) == dt.date(
        2024, 10, 8
    )
