"""medcalc-steps construction: counts, determinism, and every label verified by recomputation."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from medevals.benchmarks.base import Skipped
from medevals.benchmarks.medcalc_steps import _load, _numbers_in, calculator_agrees, verify_clean
from medevals.scoring.step_arith import equations, evaluate, holds, tolerance


@pytest.fixture(scope="module")
def built(request):
    from conftest import data_dir

    folder = data_dir() / "medcalc_bench"
    rows = list(_load(folder, "test", 0))
    return (
        folder,
        [r for r in rows if not isinstance(r, Skipped)],
        [r for r in rows if isinstance(r, Skipped)],
    )


def test_counts_at_seed_0(built):
    _, items, skipped = built
    assert len(items) == 1140
    assert Counter(i.subset for i in items) == {
        "clean": 570,
        "arithmetic": 160,
        "value": 159,
        "coefficient": 145,
        "unit": 106,
    }
    assert len(items) // 2 + len(skipped) == 1047  # every source row is an item pair or a counted skip


def test_same_seed_same_benchmark_other_seed_other_corruptions(built):
    folder, items, _ = built
    again = [r for r in _load(folder, "test", 0) if not isinstance(r, Skipped)]
    assert [(i.id, i.metadata["steps"]) for i in again] == [(i.id, i.metadata["steps"]) for i in items]
    other = [r for r in _load(folder, "test", 1) if not isinstance(r, Skipped)]
    assert {i.id for i in other if i.target} != {i.id for i in items if i.target}


def test_clean_chains_are_right_by_recomputation(built):
    from medevals.benchmarks.readers import read_csv

    folder, items, _ = built
    rows = {
        f"{r['Calculator ID']}-{r['Unique ID']}": r for _, r in read_csv(folder / "original_test_labels.csv")
    }
    for it in items:
        if it.target:
            continue
        assert verify_clean(it.metadata["steps"]), it.id  # every computation in it recomputes
        assert calculator_agrees(rows[it.metadata["source"]]) is True, it.id  # medevals' calculator agrees


def test_each_corrupted_step_is_really_wrong_and_the_only_change(built):
    by_id = {i.id: i for i in built[1]}
    for it in built[1]:
        if not it.target:
            continue
        clean = by_id[f"{it.metadata['source']}-clean"].metadata["steps"]
        steps = it.metadata["steps"]
        k = it.target - 1
        assert [i for i, (a, b) in enumerate(zip(clean, steps, strict=True)) if a != b] == [k]
        step, kind = steps[k], it.metadata["error_type"]
        if kind in ("arithmetic", "unit"):
            eqs = equations(step)
            assert any(holds(e) is False for e in eqs), (it.id, step)
            if kind == "unit":  # off by a power of ten
                before = equations(clean[k])
                e, b = next(
                    (e, b) for e, b in zip(eqs, before, strict=False) if e.result_text != b.result_text
                )
                assert holds(e) is False
                ratio = e.result / b.result  # the source's own (rounded) result, moved by 10^k
                assert any(abs(ratio - 10**p) / 10**p < 0.02 for p in (-3, -2, -1, 1, 2, 3)), (it.id, ratio)
        elif kind == "value":
            note = it.context or ""
            old = re.findall(r"\d+(?:\.\d+)?", clean[k])
            new = re.findall(r"\d+(?:\.\d+)?", step)
            assert float(old[0]) in _numbers_in(note) and float(new[0]) not in _numbers_in(note), it.id
        elif kind == "coefficient":
            p = it.metadata["proof"]
            const, stated = p["constant"], p["stated"]
            assert const in clean[k] and stated in step and float(stated) != float(const)
            # the formula's constant is used by a later computation of the clean chain; with the
            # stated constant that computation gives another result
            later = [e for s in clean[k + 1 :] for e in equations(s) if const in e.expression.split()]
            assert later, it.id
            e = later[0]
            tokens = e.expression.split()
            tokens[tokens.index(const)] = stated
            assert abs(evaluate(" ".join(tokens)) - e.result) > tolerance(e.result_text, e.result), it.id
        else:
            raise AssertionError(kind)


def test_the_data_never_reaches_the_prompt_with_the_label(built):
    from medevals.protocols.steps import StepVerifyOptions, StepVerifyProtocol

    proto = StepVerifyProtocol(StepVerifyOptions())
    it = next(i for i in built[1] if i.target)
    text = proto.request(it, base=False).body["messages"][0]["content"]
    assert it.metadata["error_type"] not in text.split("# Solution")[1]
    assert it.metadata["original_step"] not in text
