"""Full HealthBench from the official files: the loader finds them by their published names, and
``healthbench-meta`` scores judges against physician grades, end to end through the CLI.

The fixtures are small self-written rows in the official formats (the files are not staged here).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli, run_fake
from fake_openai import _last_user_text

from medevals.benchmarks import base, registry
from medevals.benchmarks.judged_sets import HEALTHBENCH_FILES, HEALTHBENCH_META_FILE
from medevals.errors import DataError


def conversation(
    pid: str, rubrics: list[tuple[str, int, list[str]]], tags=("theme:emergency_referrals",)
) -> dict:
    return {
        "prompt_id": pid,
        "prompt": [{"role": "user", "content": f"Question {pid}: chest pain, what now?"}],
        "rubrics": [{"criterion": c, "points": p, "tags": t} for c, p, t in rubrics],
        "example_tags": list(tags),
        "ideal_completions_data": None,
        "canary": "fixture",
    }


def write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_official_file_names_are_recognised(tmp_path):
    hb = tmp_path / "healthbench"
    r = [
        ("Advises calling emergency services.", 8, ["axis:accuracy"]),
        ("Is verbose.", -2, ["axis:communication_quality"]),
    ]
    write(hb, "2025-05-07-06-14-12_oss_eval.jsonl", [conversation(f"f{i}", r) for i in range(3)])
    write(hb, "hard_2025-05-08-21-00-10.jsonl", [conversation("h0", r)])
    write(hb, "consensus_2025-05-09-20-00-46.jsonl", [conversation(f"c{i}", r[:1]) for i in range(2)])
    bench = registry.get("healthbench")
    assert bench.splits == {"test": 104, "full": 5000, "hard": 1000, "consensus": 3671}
    full = base.load(bench, "full", tmp_path)
    assert [it.id for it in full.items] == ["f0", "f1", "f2"]
    assert full.items[0].target[1]["points"] == -2.0 and full.items[0].metadata["example_tags"] == [
        "theme:emergency_referrals"
    ]
    assert [it.id for it in base.load(bench, "hard", tmp_path).items] == ["h0"]
    assert len(base.load(bench, "consensus", tmp_path).items) == 2
    # the data hash covers the official file of the split read
    assert base.load(bench, "hard", tmp_path).data_hash != full.data_hash


def test_missing_official_file_says_what_to_download(tmp_path):
    (tmp_path / "healthbench").mkdir()
    with pytest.raises(DataError) as e:
        base.load(registry.get("healthbench"), "hard", tmp_path)
    msg = str(e.value)
    assert "hard_2025-05-08-21-00-10.jsonl" in msg and "openaipublic.blob.core.windows.net" in msg
    assert "\n" not in msg
    with pytest.raises(DataError, match=HEALTHBENCH_META_FILE):
        base.load(registry.get("healthbench-meta"), None, tmp_path)


def test_full_split_runs_end_to_end(fake_server, tmp_path, capsys):
    hb = tmp_path / "data" / "healthbench"
    r = [
        ("Advises calling emergency services.", 8, ["axis:accuracy"]),
        ("Is verbose.", -2, ["axis:completeness"]),
    ]
    write(
        hb, HEALTHBENCH_FILES["full"], [conversation("f0", r), conversation("f1", r[:1], ("theme:hedging",))]
    )

    def respond(path, body):
        text = _last_user_text(body)
        if "Rubric criterion" not in text:
            return "Call emergency services now."
        return json.dumps(
            {"explanation": "x", "criteria_met": "emergency" in text.split("# Rubric criterion")[1]}
        )

    server = fake_server(responder=respond)
    code, out, err, folder = run_fake(
        server,
        tmp_path,
        capsys,
        "--judge",
        f"openai:j0@{server.base_url}",
        "--data-dir",
        str(tmp_path / "data"),
        "-q",
        benchmark="healthbench:full",
    )
    assert code == 0, err + out
    rec = folder.read_manifest().benchmarks[0]
    assert rec.split == "full" and rec.n_items == 2
    assert {s.item.id: s.score.value for s in folder.iter_samples()} == {"f0": 1.0, "f1": 1.0}


# --------------------------------------------------------------------------- meta-evaluation

EM = "cluster:emergency_referrals_emergent"
CTX = "cluster:context_seeking_enough-context"


def meta_row(i: int, rubric: str, labels: list[bool], ids: list[str], category: str) -> dict:
    return {
        "prompt_id": f"p{i}",
        "completion_id": f"c{i}",
        "prompt": [{"role": "user", "content": f"Conversation {i}"}],
        "completion": f"Response {i}",
        "rubric": rubric,
        "category": category,
        "binary_labels": labels,
        "anonymized_physician_ids": ids,
        "canary": "fixture",
    }


META_ROWS = [
    meta_row(1, "MET: refers to the emergency department.", [True, True, False], ["d1", "d2", "d3"], EM),
    meta_row(2, "NOT: seeks the most informative context.", [True, False], ["d1", "d2"], EM),
    meta_row(3, "MET: asks for the patient's age.", [False, False], ["d2", "d3"], CTX),
    meta_row(4, "NOT: hedges appropriately.", [False, True, False], ["d1", "d2", "d3"], CTX),
]


def meta_judges(path, body):
    """j0 answers by the MET:/NOT: prefix; j1 does too but writes prose for row 3 (malformed, every time)."""
    text = body["messages"][0]["content"]  # the filled template (a repair turn comes after it)
    crit = text.split("# Rubric criterion\n", 1)[1].split("\n", 1)[0]
    if body["model"] == "j1" and "patient's age" in crit:
        return "I think the criterion is probably met."
    return json.dumps({"explanation": "scripted", "criteria_met": crit.startswith("MET")})


def test_meta_eval_end_to_end(fake_server, tmp_path, capsys):
    write(tmp_path / "data" / "healthbench", HEALTHBENCH_META_FILE, META_ROWS)
    server = fake_server(responder=meta_judges)
    code, out, err, folder = run_fake(
        server,
        tmp_path,
        capsys,
        "--judge",
        f"openai:j0@{server.base_url},openai:j1@{server.base_url}",
        "--data-dir",
        str(tmp_path / "data"),
        model=None,
        benchmark="healthbench-meta",
    )
    assert code == 0, err + out
    assert "macro-F1" in out  # the published figure is printed after the run
    # no candidate model: every request is a judge call (4 rows x 2 judges, + j1's repair and fresh calls)
    assert {r["body"]["model"] for r in server.requests} == {"j0", "j1"}
    samples = {s.item.id: s for s in folder.iter_samples()}
    assert len(samples) == 4
    # row 1: both judges 'met' -> agreement 2/3; row 3: j1 failed, the jury is j0's 'met' -> 0/2
    assert samples["row-000001"].score.value == pytest.approx(2 / 3)
    assert samples["row-000003"].score.values["judge:1"] is None
    assert samples["row-000003"].score.value == 0.0
    m = folder.read_metrics()["benchmarks"]["healthbench-meta"]
    assert m["primary"] == "agreement"
    t = next(x for x in m["extra"]["tables"] if x["title"].startswith("Grader vs physicians"))
    rows = {r[0]: r for r in t["rows"]}
    # judge:0 labels M, N, M, N vs physicians: row1 T vs [T,T,F]: tp2 fp1; row2 F vs [T,F]: fn1 tn1;
    # row3 T vs [F,F]: fp2; row4 F vs [F,T,F]: tn2 fn1 -> tp2 fp3 fn2 tn3
    f_met, f_not = 4 / (4 + 3 + 2), 6 / (6 + 2 + 3)
    assert rows["judge:0"][1]["value"] == pytest.approx((f_met + f_not) / 2)
    assert rows["judge:0"][2] == 4 and rows["judge:0"][3] == 10
    # judge:1 has no verdict on row 3: its pairs leave out that row (tp2 fp1 fn2 tn3)
    assert rows["judge:1"][2] == 3 and rows["judge:1"][3] == 8
    assert rows["judge:1"][1]["value"] == pytest.approx((4 / 7 + 6 / 9) / 2)
    assert rows["jury (majority)"][2] == 4
    fails = next(x for x in m["extra"]["tables"] if x["title"].startswith("Judge failures"))
    j1 = next(r for r in fails["rows"] if r[0] == "judge:1")
    assert j1[4] == 1 and j1[-2] == 1  # malformed once (re-asked), never a 'not met'
    rec = folder.read_manifest().benchmarks[0]
    assert rec.protocol == "rubric-meta" and "rubric_criterion_meta@v1" in rec.templates
    assert folder.read_manifest().model.backend == "none"
    # re-scoring needs no judge: the stored verdicts give the same table
    n_requests = len(server.requests)
    code, out, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    again = folder.read_metrics()["benchmarks"]["healthbench-meta"]["extra"]["tables"][0]
    assert again["rows"] == t["rows"] and len(server.requests) == n_requests
