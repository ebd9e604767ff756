"""medmcp-calc's deterministic reading of upstream's comparison, row by row.

Upstream (``SPIRAL-MED/MedMCP-Calc@81f3ff2:codes/evaluation.py``) lets an LLM decide per gold
calculator ``name_matched`` ("names may have slight differences, such as abbreviations,
capitalization") and ``result_matched`` ("whether the calculation results ... are consistent");
per task: selection accuracy = matched names / gold calculators, calculation accuracy = matched
results / gold calculators; calculators the model adds are "extra". There is no stated numeric
tolerance, so each value row says which side of medevals' rule (±5%, integer scores to the unit,
categories as phrases) the case falls, with the reading an LLM comparer would most likely give
in ``upstream`` (None where it is a judgement call). Rows where the rule and that reading differ
are the documented differences.
"""

from __future__ import annotations

import pytest

from medevals.protocols.calc_workflow import library_names
from medevals.scoring.calc_workflow import Reported, match_name, read_reported, score_task, value_matches

# (reported name, gold name, medevals rule (None = no match), upstream's likely reading, why)
NAMES: list[tuple[str, str, str | None, bool | None, str]] = [
    ("Mean Arterial Pressure (MAP)", "Mean Arterial Pressure (MAP)", "exact", True, "same name"),
    ("mean arterial pressure", "Mean Arterial Pressure (MAP)", "exact", True, "case and parentheses"),
    ("MAP", "Mean Arterial Pressure (MAP)", "exact", True, "the parenthesised abbreviation"),
    (
        "ECOG performance status",
        "Eastern Cooperative Oncology Group (ECOG) Performance Status",
        "contains",
        True,
        "short form",
    ),
    (
        "CHA2DS2-VASc",
        "CHA₂DS₂-VASc Score for Atrial Fibrillation Stroke Risk",
        "contains",
        True,
        "subscripts folded",
    ),
    ("Glasgow Coma Score", "Glasgow Coma Scale (GCS)", "acronym", True, "score/scale: initials"),
    ("Cockcroft-Gault", "Creatinine Clearance (Cockcroft-Gault Equation)", "contains", True, "eponym"),
    (
        "cockcroft_gault",
        "Creatinine Clearance (Cockcroft-Gault Equation)",
        "contains",
        True,
        "medevals tool name",
    ),
    (
        "Body Surface Area Calculator",
        "BMI Calculator (Body Mass Index and BSA)",
        None,
        False,
        "BSA is not the BMI result",
    ),
    (
        "Adjusted Body Weight",
        "Ideal Body Weight and Adjusted Body Weight",
        "contains",
        True,
        "part of a combined name",
    ),
    ("Anion gap", "Serum Anion Gap", "contains", True, "without the specimen"),
    ("qSOFA", "Sequential Organ Failure Assessment (SOFA) Score", None, False, "a different score"),
    ("Risk score", "HAS-BLED Score for Major Bleeding Risk", None, False, "only generic words"),
    (
        "CrCl",
        "Creatinine Clearance (Cockcroft-Gault Equation)",
        None,
        True,
        "DIFFERENCE: an abbreviation not in the name",
    ),
    (
        "PaO2/FiO2 ratio",
        "Horowitz Index for Lung Function (P/F Ratio)",
        None,
        True,
        "DIFFERENCE: spelled-out synonym",
    ),
]

# (reported value, gold final_answer, medevals, upstream's likely reading, why)
VALUES: list[tuple[object, object, bool, bool | None, str]] = [
    (3, 3, True, True, "integer score"),
    (3.4, 3, True, True, "rounds to the score"),
    (4, 3, False, False, "another score"),
    (97, 95, True, True, "MAP 95 (integer-valued quantity): ±5%"),
    (101, 95, False, False, "outside ±5%"),
    ("31 mL/min/1.73 m²", 31, True, True, "unit after the number"),
    (28.8, 29, True, True, "rounding"),
    (120.6, 120.6, True, True, "decimal"),
    (54.7, 120.6, False, None, "DIFFERENCE (maybe): the same weight in kg against lb"),
    ("111 mm Hg", "111.3 mm Hg", True, True, "string gold with a leading number"),
    ("25%", "25.20 %", True, True, "percent"),
    (0.252, "25.20 %", False, None, "a fraction against a percentage"),
    ("28.7", "28.7% (24.4-33.4%)", True, True, "point estimate; the interval is not required"),
    (7.0, 7.32, True, False, "DIFFERENCE: pH within ±5% but clinically different"),
    ("Stage 2", "Stage 2", True, True, "category"),
    ("KDIGO stage II", "Stage 2", True, True, "roman numerals, category inside a longer value"),
    ("Grade 4", "Grade IV", True, True, "roman numerals"),
    ("severe", "Severe", True, True, "case"),
    ("not severe", "Severe", False, False, "negated"),
    ("High", "High risk", True, True, "the distinctive word"),
    ("Wet", "Warm and Wet", False, False, "half of the category"),
    (
        "Multiple organ dysfunction syndrome",
        "This patient meets multiple organ dysfunction syndrome. Follow ...",
        True,
        True,
        "the category in a sentence",
    ),
    (
        "Sepsis",
        "This patient meets multiple organ dysfunction syndrome. Follow ...",
        False,
        False,
        "another category",
    ),
    (None, 3, False, False, "no value"),
]


@pytest.mark.parametrize(("reported", "gold", "rule", "upstream", "why"), NAMES)
def test_name_rule(reported, gold, rule, upstream, why):
    m = match_name(reported, gold)
    assert (m.rule if m else None) == rule, why
    if not why.startswith("DIFFERENCE"):
        assert (m is not None) == upstream, why


@pytest.mark.parametrize(
    ("reported", "gold"),
    [
        ("cockcroft_gault", "Creatinine Clearance (Cockcroft-Gault Equation)"),  # the tool's name
        ("Glasgow Coma Score (GCS)", "Glasgow Coma Scale (GCS)"),  # the library's title
        ("map", "Mean Arterial Pressure (MAP)"),
        (
            "CKD-EPI Equations for Glomerular Filtration Rate",
            "CKD-EPI Equations for Glomerular Filtration Rate (GFR)",
        ),
    ],
)
def test_library_names_count_for_the_mapped_gold(reported, gold):
    m = match_name(reported, gold, library_names()[gold])
    assert m is not None and m.rule in ("exact", "library")
    assert match_name("cockcroft_gault", "Kinetic Estimated Glomerular Filtration Rate (keGFR)", ()) is None


@pytest.mark.parametrize(("reported", "gold", "ours", "upstream", "why"), VALUES)
def test_value_rule(reported, gold, ours, upstream, why):
    assert value_matches(reported, gold) is ours, why
    if upstream is not None and not why.startswith("DIFFERENCE"):
        assert ours == upstream, why


def test_task_formulas_match_upstream():
    """selection = matched gold / gold, calculation = matched results / gold, extras counted apart;
    a duplicated gold calculator (same name twice) takes two reported entries, values paired best first."""
    gold = [
        {"name": "Horowitz Index for Lung Function (P/F Ratio)", "final_answer": "90.0 mmHg"},
        {"name": "Mean Arterial Pressure (MAP)", "final_answer": 95},
        {"name": "Horowitz Index for Lung Function (P/F Ratio)", "final_answer": "160.0 mmHg"},
        {"name": "Shock Index", "final_answer": 1.3},
    ]
    reported = [
        Reported("P/F ratio", 160),
        Reported("P/F ratio", 90),
        Reported("MAP", 80),
        Reported("Wells score", 2),
    ]
    ts = score_task(reported, gold)
    assert [(i, j) for i, j, *_ in ts.pairs] == [(1, 0), (2, 1), (0, 2)]
    assert ts.selection_recall == 3 / 4 and ts.value_accuracy == 2 / 4
    assert ts.selection_precision == 3 / 4 and ts.extra == 1


def test_reading_the_reported_list():
    text = 'Notes {"x": 1}\n```json\n{"calculators": [{"name": "MAP", "value": 95}, {"calculator": "GCS", "result": "10"}]}\n```\nDone {"n": 2}'
    assert read_reported(text) == [Reported("MAP", 95), Reported("GCS", "10")]
    assert read_reported('[{"name": "MAP", "value": 95}]') == [Reported("MAP", 95)]
    assert read_reported("MAP is 95") is None
