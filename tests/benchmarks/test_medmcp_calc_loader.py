"""medmcp-calc loader: exact counts, the hidden plan, the flat gold inputs, the library mapping's coverage."""

from __future__ import annotations

import json
from collections import Counter

from medevals.benchmarks import base, registry
from medevals.benchmarks.medmcp_calc import LIBRARY_MAP, SETTING, patient_facts
from medevals.calculators import get


def _rows(shared_data):
    path = shared_data / "medmcp_calc" / "tasks.jsonl"
    return {r["task_id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_counts_domains_and_label(shared_data):
    bench = registry.get("medmcp-calc")
    items = list(base.load(bench, "test", shared_data).items)
    assert len(items) == 118 == bench.splits["test"]
    assert sum(len(it.target) for it in items) == 837
    assert Counter(it.subset for it in items) == {
        "Medicine & Organ Systems": 59,
        "Emergency, Critical Care & Perioperative": 25,
        "Special Populations & General Tools": 20,
        "Neurology & Mental Health": 14,
    }
    assert SETTING in bench.title and SETTING in bench.task_type and SETTING in bench.description.lower()
    assert all(it.metadata["setting"] == SETTING for it in items)


def test_prompt_hides_the_plan_and_the_points(shared_data):
    rows = _rows(shared_data)
    for it in base.load(registry.get("medmcp-calc"), "test", shared_data).items:
        row = rows[it.id]
        assert it.input.startswith(row["fuzzy_question"].strip())
        assert row["task_description"][:200] not in it.input
        # every gold input is there once, sorted by field, without its points
        facts = it.metadata["facts"]
        assert facts == patient_facts(row["calculator_answers"])
        assert len(facts) == len(set(f.casefold() for f in facts))
        assert '"score"' not in it.input


def test_library_mapping_coverage(shared_data):
    items = list(base.load(registry.get("medmcp-calc"), "test", shared_data).items)
    names = Counter(g["name"] for it in items for g in it.target)
    assert set(LIBRARY_MAP) <= set(names)
    for slug in LIBRARY_MAP.values():
        get(slug)  # every mapped calculator exists in the library
    mapped = sum(n for name, n in names.items() if name in LIBRARY_MAP)
    assert (len(LIBRARY_MAP), len(set(LIBRARY_MAP.values())), mapped) == (38, 33, 115)
    assert sum(1 for it in items if any(it.metadata["library"])) == 56


def test_patient_facts_flat_sorted_once_without_points():
    answers = [
        {
            "name": "B score",
            "inputs": [{"field": "Weight", "value": 70}, {"field": "age", "value": "76", "score": 2}],
        },
        {
            "name": "A calc",
            "inputs": [{"field": "Age", "value": "76"}, {"field": "Creatinine", "value": "1.8 mg/dL"}],
        },
        {"name": "C calc", "inputs": [{"field": "Weight", "value": 72}]},
    ]
    assert patient_facts(answers) == ["age: 76", "Creatinine: 1.8 mg/dL", "Weight: 70", "Weight: 72"]
