"""Pairwise protocol end to end through the fake server: triage pairs (items mode) and
``medevals compare`` (answers mode) with scripted judges, position bias, unscored failures."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from clihelp import only_run, run_cli, run_ok
from fake_openai import _last_user_text

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.pairs import pair_item
from medevals.schema import Taxonomy

URGENCY = {f"m{i}": i for i in range(1, 7)}  # m6 most urgent


def triage_benchmark() -> Benchmark:
    def load(folder: Path, split: str):
        for x, y in itertools.combinations(sorted(URGENCY), 2):
            yield pair_item(
                id=f"{x}-{y}",
                a_id=x,
                a_text=f"Message {x}: urgency level {URGENCY[x]} of 6.",
                b_id=y,
                b_text=f"Message {y}: urgency level {URGENCY[y]} of 6.",
                criterion="more urgent",
                a_score=URGENCY[x],
                b_score=URGENCY[y],
            )

    return Benchmark(
        name="triage-test",
        title="triage pairs",
        protocol="pairwise",
        task_type="pairwise",
        taxonomy=Taxonomy(category="t"),
        license="x",
        source="self-written",
        description="",
        splits={"test": 15},
        default_split="test",
        load_local=load,
        local_files=lambda folder, split: [],
        bundled_dir=Path(__file__).parent,
    )


def _shown(text: str) -> tuple[int, int]:
    levels = [int(n) for n in re.findall(r"urgency level (\d)", text)]
    return levels[0], levels[1]


def triager(path: str, body: dict) -> str:
    """Picks the higher level, except that for neighbours (levels 1 apart) it picks the first shown."""
    first, second = _shown(_last_user_text(body))
    pick = 1 if abs(first - second) == 1 or first > second else 2
    return json.dumps({"explanation": "x", "preferred": pick})


@pytest.fixture
def triage(monkeypatch):
    from medevals.benchmarks import registry

    real = registry.get
    monkeypatch.setattr(
        registry, "get", lambda name: triage_benchmark() if name == "triage-test" else real(name)
    )


def test_triage_pairs_accuracy_bias_and_bradley_terry(fake_server, tmp_path, capsys, triage):
    server = fake_server(responder=triager)
    folder = run_ok(server, tmp_path, capsys, benchmark="triage-test")
    m = folder.read_metrics()["benchmarks"]["triage-test"]
    # 15 pairs: 10 decided right in both orders, 5 neighbours right in one order only
    assert m["metrics"]["accuracy"]["value"] == pytest.approx((10 + 5 * 0.5) / 15)
    assert m["metrics"]["consistent"]["value"] == pytest.approx(10 / 15)
    extra = m["extra"]
    assert extra["kendall_tau"] == pytest.approx(1.0) and extra["ndcg"] == pytest.approx(1.0)
    bt = extra["bradley_terry"]
    assert sorted(bt, key=lambda k: bt[k]["value"]) == sorted(URGENCY, key=URGENCY.get)
    rows = {r[0]: r for r in extra["tables"][0]["rows"]}
    bias = rows["position bias: decisive verdicts for the first shown"][1]
    assert bias["value"] == pytest.approx(20 / 30)  # 10 right either way (half first) + 10 neighbours first
    calls = [s for s in folder.iter_samples() for _ in s.calls]
    assert len(calls) == 30  # both orders, one call each


def test_an_unreadable_triage_verdict_is_wrong_and_counted(fake_server, tmp_path, capsys, triage):
    server = fake_server(responder=lambda path, body: "Both look urgent to me.")
    folder = run_ok(server, tmp_path, capsys, "--limit", "3", benchmark="triage-test")
    m = folder.read_metrics()["benchmarks"]["triage-test"]
    assert m["metrics"]["accuracy"]["value"] == 0.0 and m["n_unparseable"] == 3


# --------------------------------------------------------------------------- compare


def answerer(path: str, body: dict) -> str:
    model = body["model"]
    if model in ("ma", "mb"):
        return "The answer is (A), with a careful explanation." if model == "ma" else "The answer is (B)."
    if model == "broken":  # never a verdict, to the question and to the repair turn alike
        return "I cannot decide."
    text = _last_user_text(body)
    first = text.split("# Answer 1", 1)[1].split("# Answer 2", 1)[0]
    if model == "judge":  # prefers A's careful answer wherever it is shown
        return json.dumps({"explanation": "x", "preferred": 1 if "careful" in first else 2})
    if model == "biased":  # always the first shown
        return json.dumps({"explanation": "x", "preferred": 1})
    raise AssertionError(f"unexpected model {model}")


def two_runs(server, tmp_path, capsys) -> tuple[Path, Path]:
    a = run_ok(
        server,
        tmp_path,
        capsys,
        "--limit",
        "5",
        "--mode",
        "generate",
        model="openai:ma",
        runs=tmp_path / "ra",
    )
    b = run_ok(
        server,
        tmp_path,
        capsys,
        "--limit",
        "5",
        "--mode",
        "generate",
        model="openai:mb",
        runs=tmp_path / "rb",
    )
    return a.path, b.path


def compare(server, tmp_path, capsys, a, b, judges: str, *extra: str):
    judge = ",".join(f"openai:{j}@{server.base_url}" for j in judges.split(","))
    out = tmp_path / f"cmp-{judges}"
    code, stdout, err = run_cli(
        [
            "compare",
            str(a),
            str(b),
            "--judge",
            judge,
            "--runs-dir",
            str(out),
            "--no-cache",
            "--no-report",
            *extra,
        ],
        capsys,
    )
    return code, stdout + err, only_run(out)


def test_compare_two_runs(fake_server, tmp_path, capsys):
    server = fake_server(responder=answerer)
    a, b = two_runs(server, tmp_path, capsys)
    code, out, folder = compare(server, tmp_path, capsys, a, b, "judge")
    assert code == 0, out
    m = folder.read_metrics()["benchmarks"]["compare"]
    assert m["primary"] == "win_rate" and m["metrics"]["win_rate"]["value"] == 1.0 and m["n_scored"] == 5
    manifest = folder.read_manifest()
    assert manifest.model.spec == "openai:ma vs openai:mb"
    samples = list(folder.iter_samples())
    assert all(len(s.calls) == 2 for s in samples)  # one judge, both orders
    assert all(s.item.subset == "demo" for s in samples)
    # the leaderboard reads it like any run
    from medevals.runs.index import build_index

    con = build_index([folder.path.parent])
    row = con.execute("SELECT model, metric, value, n FROM results WHERE benchmark = 'compare'").fetchall()
    assert row == [("openai:ma vs openai:mb", "win_rate", 1.0, 5)]
    code, _board, _ = run_cli(["leaderboard", str(folder.path.parent)], capsys)
    assert code == 0
    # rescoring needs no judge and gives the same metrics
    code, _, _ = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0 and folder.read_metrics()["benchmarks"]["compare"]["metrics"]["win_rate"]["value"] == 1.0


def test_a_judge_with_position_bias_gives_ties(fake_server, tmp_path, capsys):
    server = fake_server(responder=answerer)
    a, b = two_runs(server, tmp_path, capsys)
    _code, _out, folder = compare(server, tmp_path, capsys, a, b, "biased")
    m = folder.read_metrics()["benchmarks"]["compare"]
    assert m["metrics"]["win_rate"]["value"] == 0.5  # inconsistent across orders: a tie (MT-Bench), not a win
    rows = {r[0]: r for r in m["extra"]["tables"][0]["rows"]}
    assert rows["position bias: decisive verdicts for the first shown"][1]["value"] == 1.0
    assert rows["A wins / ties / B wins (MT-Bench rule, per judge)"][1] == "0 / 5 / 0"
    assert m["metrics"]["consistent"]["value"] == 0.0


def test_a_judge_that_never_answers_leaves_pairs_unscored_not_lost(fake_server, tmp_path, capsys):
    server = fake_server(responder=answerer)
    a, b = two_runs(server, tmp_path, capsys)
    _code, _out, folder = compare(server, tmp_path, capsys, a, b, "broken,judge")
    m = folder.read_metrics()["benchmarks"]["compare"]
    assert m["metrics"]["win_rate"]["value"] == 1.0 and m["n_unscored"] == 0  # the readable judge decides
    _code, _out, folder = compare(server, tmp_path, capsys, a, b, "broken")
    m = folder.read_metrics()["benchmarks"]["compare"]
    assert m["n_scored"] == 0 and m["n_unscored"] == 5  # unscored and counted, never a loss
