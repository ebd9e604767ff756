"""Synthetic patients and task instantiation: determinism, FHIR validity, branch coverage, ground truth."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from extras_skip import needs

from medevals.benchmarks import base, registry
from medevals.fhir.generator import generate
from medevals.fhir.instantiate import instantiate
from medevals.fhir.server import validate_resource
from medevals.fhir.tasks import TaskSpec, TaskTextError, compute_truth, parse_task
from medevals.fhir.world import build_store


def test_generator_is_deterministic_and_seed_sensitive() -> None:
    a, b = generate(30, seed=7), generate(30, seed=7)
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(generate(30, seed=8))
    kinds = Counter(r["resourceType"] for r in a)
    assert kinds["Patient"] == 30 and kinds["Observation"] > 30 * 10
    assert len({r["id"] for r in a}) == len(a)


@needs("fhir")
def test_generated_resources_are_valid_fhir() -> None:
    for r in generate(15, seed=1):
        if r["resourceType"] in (
            "Patient",
            "Observation",
            "MedicationRequest",
            "ServiceRequest",
            "Condition",
        ):
            body = {k: v for k, v in r.items() if k != "id"}
            _, problem, warnings = validate_resource(r["resourceType"], body)
            assert problem is None and not warnings, (r["id"], problem)


def test_instantiation_is_deterministic_and_covers_every_branch(shared_data) -> None:
    rows = json.loads((shared_data / "medagentbench" / "test_data_v2.json").read_text())
    store = build_store(300, 0)
    tasks = instantiate(rows, store, per_type=30, seed=0)
    assert json.dumps(tasks) == json.dumps(instantiate(rows, build_store(300, 0), per_type=30, seed=0))
    assert len(tasks) == 300
    by = Counter()
    for t in tasks:
        spec, truth = t["spec"], t["truth"]
        ty = spec["task_type"]
        by[(ty, bool(truth.get("order")), truth.get("value") is None and truth.get("mrn") is None)] += 1
        assert spec["mrn"] is None or spec["mrn"] in t["instruction"]
    # conditional orders both due and not due; missing and present values
    for ty in (5, 9, 10):
        assert by[(ty, True, False)] + by[(ty, True, True)] > 0 and by[(ty, False, False)] > 0
    for ty in (4, 6):
        assert sum(n for k, n in by.items() if k[0] == ty and k[2]) > 0  # -1 expected
        assert sum(n for k, n in by.items() if k[0] == ty and not k[2]) > 0
    assert by[(1, False, True)] == 2  # two "Patient not found"


def test_benchmark_counts_and_split_original(shared_data) -> None:
    bench = registry.get("ehr-agent")
    synth = base.load(bench).items
    assert len(synth) == bench.splits["synthetic"] == 300
    assert [it.metadata["spec"]["task_type"] for it in synth[:10]] == list(range(1, 11))
    orig = base.load(bench, split="original").items
    assert len(orig) == 300 and Counter(it.subset for it in orig)["mrn-lookup"] == 30
    t1 = {it.id: it.target for it in orig if it.id.startswith("task1_")}
    assert t1["task1_1"] == {"sol": ["S6534835"], "mrn": "S6534835"}
    assert t1["task1_29"] == {"sol": ["Patient not found"], "mrn": None}  # the grader compares the list
    assert all(it.target is None for it in orig if not it.id.startswith("task1_"))


def test_parse_task_reads_every_original_and_names_missing_parts(shared_data) -> None:
    rows = json.loads((shared_data / "medagentbench" / "test_data_v2.json").read_text())
    specs = [parse_task(r["id"], r["instruction"], r["context"], r.get("eval_MRN")) for r in rows]
    assert Counter(s.task_type for s in specs) == {t: 30 for t in range(1, 11)}
    assert all(s.ndc == "0338-1715-40" for s in specs if s.task_type == 5)
    assert all(s.loinc == "2823-3" and s.lab_code == "K" for s in specs if s.task_type == 9)
    with pytest.raises(TaskTextError, match="lab code"):
        parse_task("task4_1", "Latest Mg of S1234567?", "It's 2023-11-13T10:15:00+00:00 now.", "S1234567")
    with pytest.raises(TaskTextError, match="current time"):
        parse_task("task2_1", "Age of S1234567?", "", "S1234567")
    with pytest.raises(TaskTextError, match="task11"):
        parse_task("task11_1", "x", "", None)


def _lab(when: str, value: float) -> dict:
    return {"resourceType": "Observation", "effectiveDateTime": when, "valueQuantity": {"value": value}}


NOW = "2023-11-13T10:15:00+00:00"


@pytest.mark.parametrize(
    "ty, obs, expected",
    [
        (4, [_lab("2023-11-12T10:14:00+00:00", 1.0), _lab("2023-11-13T09:00:00+00:00", 2.1)], {"value": 2.1}),
        (4, [_lab("2023-11-12T10:14:00+00:00", 1.0)], {"value": None, "order": False}),  # just outside 24 h
        (5, [_lab("2023-11-13T01:00:00+00:00", 1.9)], {"value": 1.9, "order": True}),
        (5, [_lab("2023-11-13T01:00:00+00:00", 2.0)], {"value": 2.0, "order": False}),
        (
            6,
            [_lab("2023-11-13T01:00:00+00:00", 100), _lab("2023-11-12T12:00:00+00:00", 151)],
            {"value": 125.5},
        ),
        (6, [], {"value": None}),
        (7, [_lab("2021-01-01T00:00:00+00:00", 90), _lab("2019-01-01T00:00:00+00:00", 80)], {"value": 90.0}),
        (9, [_lab("2023-11-01T00:00:00+00:00", 3.4)], {"value": 3.4, "order": True}),
        (9, [_lab("2023-11-01T00:00:00+00:00", 3.5)], {"order": False}),
        (10, [_lab("2022-11-13T10:16:00+00:00", 6.0)], {"order": False, "when": "2022-11-13T10:16:00+00:00"}),
        (10, [_lab("2022-11-13T10:14:00+00:00", 6.0)], {"order": True}),
        (10, [], {"value": None, "order": True}),
    ],
)
def test_truth_rules(ty: int, obs: list[dict], expected: dict) -> None:
    spec = TaskSpec(task_type=ty, mrn="S1", now=NOW, lab_code="X")
    truth = compute_truth(spec, [obs])
    for k, v in expected.items():
        assert truth[k] == v, (k, truth)


def test_truth_for_lookup_and_age() -> None:
    p = {
        "resourceType": "Patient",
        "id": "S1",
        "identifier": [{"value": "S1"}],
        "birthDate": "1950-11-14",
        "name": [{"family": "Hall", "given": ["Glenda"]}],
    }
    spec = TaskSpec(task_type=2, mrn="S1", now=NOW)
    assert compute_truth(spec, [[p]])["value"] == 72  # birthday tomorrow
    look = TaskSpec(task_type=1, mrn=None, now=NOW, name="Glenda Hall", dob="1950-11-14")
    assert compute_truth(look, [[p]])["mrn"] == "S1"
    assert (
        compute_truth(TaskSpec(task_type=1, mrn=None, now=NOW, name="Glen Hall", dob="1950-11-14"), [[p]])[
            "mrn"
        ]
        is None
    )
