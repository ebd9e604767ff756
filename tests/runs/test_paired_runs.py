"""Two runs compared unit by unit (``runs/paired_runs.py``), checked against figures worked out by
hand on the constructed pair in ``tests/pairfix.py``; and ``medevals report A B`` printing them."""

from __future__ import annotations

import json

import pytest
from clihelp import run_cli
from pairfix import make_pair

from medevals.runs.folder import RunFolder
from medevals.runs.paired_runs import compare_runs, score_rows
from medevals.scoring.paired import mcnemar_exact_midp, paired_difference


def _variant(pair, name):
    return next(v for v in pair.variants if v.label == name)


def test_paired_differences_and_mcnemar_match_the_hand_computation(tmp_path):
    a, b = make_pair(tmp_path)
    pair = compare_runs(a, b)
    assert [v.label for v in pair.variants] == ["zero-shot", "cot"]

    zs = _variant(pair, "zero-shot")
    acc = zs.primary
    assert acc is not None and acc.metric == "accuracy" and acc.proportion
    d = acc.diff
    assert (d.n, d.mean_a, d.mean_b) == (10, 0.4, 0.8)
    assert d.delta == pytest.approx(0.4)
    assert (d.only_a, d.only_b) == (2, 6)
    assert d.p_exact == pytest.approx(2 * 37 / 256)  # P(X <= 2), X ~ Bin(8, 1/2), two-sided
    assert d.p_midp == pytest.approx(46 / 256)  # minus P(X = 2) = 28/256
    assert d.ci_low <= d.delta <= d.ci_high and -1 <= d.ci_low < d.ci_high <= 1
    assert sorted(ra.item_id for ra, _ in zs.only_a) == ["q2", "q3"]
    assert sorted(ra.item_id for ra, _ in zs.only_b) == [f"q{i}" for i in range(4, 10)]
    # q10 failed in B, q11 unscored in A, q12 was only run by A: none of them is a pair
    assert zs.unpaired == {"only in A": 1, "only in B": 0, "error": 1, "unscored": 1, "not applicable": 0}

    # the judged/continuous value: a paired bootstrap of the mean difference, no McNemar
    (ham,) = [m for m in zs.metrics if m.metric == "hamming_score"]
    assert not ham.proportion and ham.diff.only_a is None and ham.diff.p_exact is None
    assert ham.diff.delta == pytest.approx(0.25)
    assert ham.diff.ci_low == pytest.approx(0.25) and ham.diff.ci_high == pytest.approx(0.25)
    # "accuracy" in Score.values is the primary itself: compared once
    assert [m.metric for m in zs.metrics].count("accuracy") == 1

    cot = _variant(pair, "cot").primary
    assert cot is not None
    assert (cot.diff.only_a, cot.diff.only_b, cot.diff.delta) == (1, 0, pytest.approx(-0.1))
    assert cot.diff.p_exact == pytest.approx(1.0) and cot.diff.p_midp == pytest.approx(0.5)


def test_mcnemar_exact_and_mid_p_known_values():
    assert mcnemar_exact_midp(10, 2) == pytest.approx((158 / 4096, 92 / 4096))
    assert mcnemar_exact_midp(0, 5) == pytest.approx((2 / 32, 1 / 32))
    assert mcnemar_exact_midp(3, 3) == (1.0, 1.0)
    assert mcnemar_exact_midp(0, 0) == (1.0, 1.0)
    # large counts in log space agree with the normal approximation: z = (|b - c| - 1) / sqrt(b + c)
    p, _ = mcnemar_exact_midp(20000, 20500)
    assert p == pytest.approx(0.0132, abs=0.0005)


def test_repeats_are_resampled_as_items_and_get_no_mcnemar():
    # two items, three repeats each; B gains on item x only
    a = [0, 0, 0, 1, 1, 1]
    b = [1, 1, 1, 1, 1, 1]
    r = paired_difference(a, b, proportion=True, clusters=["x", "x", "x", "y", "y", "y"])
    assert (r.n, r.n_clusters, r.only_a, r.only_b) == (6, 2, 0, 3)
    assert r.p_exact is None and r.p_midp is None  # pairs of one item are not independent
    # resampling items: each bootstrap mean is 0, 0.5 or 1; per-unit resampling would give 1/6 steps
    assert r.ci_low in (0.0, 0.5) and r.ci_high in (0.5, 1.0)


def test_single_variant_runs_pair_across_variant_names(tmp_path):
    a, b = make_pair(tmp_path)
    for folder, keep in ((a, "zero-shot"), (b, "cot")):
        lines = folder.samples_path.read_text().splitlines(keepends=True)
        folder.samples_path.write_text("".join(x for x in lines if f'"variant":"{keep}"' in x))
    pair = compare_runs(a, b)
    (v,) = pair.variants
    assert v.label == "zero-shot vs cot" and v.primary is not None and v.primary.diff.n == 10


def test_score_rows_fast_path_equals_a_full_parse_and_ignores_score_text_in_replies(tmp_path):
    a, _ = make_pair(tmp_path)
    # a reply and a nested key that both spell ,"score": must not be taken for the sample's score
    lines = a.samples_path.read_text().splitlines()
    d = json.loads(lines[0])
    d["calls"][0]["raw"]["choices"][0]["message"]["content"] = 'x ,"score":{"value":0},"error":null'
    d["output"] = {"score": {"value": 0}, "error": None}
    reordered = json.loads(lines[1])
    reordered = {k: reordered[k] for k in reversed(list(reordered))}  # another writer's key order
    lines[0], lines[1] = json.dumps(d, separators=(",", ":")), json.dumps(reordered)
    a.samples_path.write_text("\n".join(lines) + "\n")
    rows = list(score_rows(RunFolder(a.path)))
    full = [json.loads(x) for x in lines]
    assert [r.unit_id for r in rows] == [x["unit_id"] for x in full]
    assert [r.score for r in rows] == [x["score"] for x in full]
    assert [(r.variant, r.repeat, r.error) for r in rows] == [
        (x["variant"], x["repeat"], x["error"] is not None) for x in full
    ]


def test_report_a_b_prints_paired_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    a, b = make_pair(tmp_path)
    code, out, err = run_cli(["report", str(a.path), str(b.path), "-o", str(tmp_path / "r.html")], capsys)
    assert code == 0, err
    assert "Paired on shared items, B - A (A = run-a, B = run-b)" in out
    row = next(line for line in out.splitlines() if "medqa [zero-shot]" in line)
    for cell in ("accuracy", "10", "40.0", "80.0", "+40.0 [", "2/6", "0.289/0.180"):
        assert cell in row, row
    assert "1 only in A, 1 error, 1 unscored" in row
    assert "medqa [zero-shot] only A right (2): q2, q3" in out
    assert "medqa [cot] only A right (1): q9" in out


def test_leaderboard_pair_compares_two_models_on_their_leaderboard_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    make_pair(tmp_path / "runs")
    code, out, err = run_cli(
        ["leaderboard", str(tmp_path / "runs"), "--pair", "openai:alpha", "openai:beta"], capsys
    )
    assert code == 0, err
    assert "A = openai:alpha (run-a), B = openai:beta (run-b)" in out
    row = next(line for line in out.splitlines() if "medqa [zero-shot]" in line)
    assert "+40.0 [" in row and "2/6" in row and "0.289/0.180" in row
    code, out, err = run_cli(
        ["leaderboard", str(tmp_path / "runs"), "--pair", "openai:alpha", "nope"], capsys
    )
    assert code == 2 and "no finished run of model 'nope'" in err and "openai:beta" in err
