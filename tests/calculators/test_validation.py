"""The library recomputes MedCalc-Bench rows from their Relevant Entities; agreement is pinned at what we measured."""

from pathlib import Path

import pytest

from medevals.benchmarks.base import data_root
from medevals.calculators.medcalc_entities import parse_entities, to_inputs
from medevals.calculators.validate import validate_folder


@pytest.fixture(scope="module")
def report():
    root = data_root(None)
    folder = Path(root) / "medcalc_bench" if root else None
    if folder is None or not folder.is_dir():
        pytest.skip("MedCalc-Bench data not available")
    return validate_folder(folder)


def test_every_row_is_checked_and_classified(report):
    s = report.summary()
    assert s["rows"] == 1047
    assert s["corrected"]["n"] == 818 and s["corrected_na_rows"] == 69
    disagree = s["corrected"]["n"] - s["corrected"]["agree"]
    assert sum(s["disagreement_classes"].values()) == disagree
    assert set(s["disagreement_classes"]) <= {"entity_error", "entities_stale", "library_differs"}


def test_agreement_rates(report):
    s = report.summary()
    # measured 2026-11-29 and 2026-12-02: corrected 719/818 (87.9%), original 831/1047 (79.4%); see README
    assert s["corrected"]["rate"] >= 0.87
    assert s["original"]["rate"] >= 0.79
    # rows whose label the physicians did not change are where the library is judged on its own
    stale = s["disagreement_classes"].get("entities_stale", 0)
    assert (s["corrected"]["agree"] + stale) / s["corrected"]["n"] >= 0.95


@pytest.mark.parametrize(
    ("calculator", "counts"),
    [  # the per-calculator figures the README quotes: (original agree, n, corrected agree, n)
        ("APACHE II Score", (0, 20, 6, 6)),
        ("Glasgow Coma Score (GCS)", (0, 20, 16, 17)),
        ("Estimated of Conception", (1, 20, 18, 20)),
        ("Estimated Due Date", (2, 20, 18, 18)),
        ("Child-Pugh Score for Cirrhosis Mortality", (5, 20, 15, 18)),
        ("Framingham Risk Score for Hard Coronary Heart Disease", (0, 16, 0, 0)),
    ],
)
def test_per_calculator_figures_quoted_in_the_readme(report, calculator, counts):
    assert report.per_calculator()[calculator] == counts


def test_entities_mapping_rejects_unknown_keys():
    with pytest.raises(ValueError):
        to_inputs(6, {"weight": [70, "kg"], "height": [170, "cm"], "shoe size": 9})
    ent = parse_entities("{'weight': [70.0, 'kg'], 'height': [170.0, 'cm']}")
    assert to_inputs(6, ent) == {"weight": [70.0, "kg"], "height": [170.0, "cm"]}
