"""The results index at scale: incremental refresh, unreadable folders reported, win rates,
category means and cost per point (``runs/index.py``, ``medevals leaderboard``)."""

import json
import os
import shutil

import pytest
from boardfix import bench_metrics, make_run
from clihelp import run_cli

from medevals.runs.index import (
    category_means,
    leaderboard,
    model_summary,
    open_index,
    pairwise_wins,
)


def _board(root):
    make_run(
        root,
        "r-alpha",
        "openai:alpha",
        {
            "medqa": bench_metrics(0.5, category="Knowledge", cost=1.0),
            "pubmedqa": bench_metrics(0.7, category="Reasoning", cost=2.0),
            "notes": bench_metrics(3.5, category="Reasoning", cost=1.0, scale=(1, 5)),
        },
    )
    make_run(
        root,
        "r-beta",
        "openai:beta",
        {
            "medqa": bench_metrics(0.8, category="Knowledge", cost=None),
            "pubmedqa": bench_metrics(0.6, category="Reasoning", cost=None),
            "notes": bench_metrics(3.5, category="Reasoning", cost=None, scale=(1, 5)),
        },
    )
    make_run(root, "r-gamma", "openai:gamma", {"medqa": bench_metrics(0.5, category="Knowledge", cost=0.5)})


def test_refresh_rereads_only_new_or_changed_folders_and_drops_removed_ones(tmp_path):
    runs = tmp_path / "runs"
    _board(runs)
    db = str(runs / "index.duckdb")
    con, r = open_index([runs], db)
    assert (r.found, r.read, r.reused, r.removed) == (3, 3, 0, 0)
    con.close()
    con, r = open_index([runs], db)
    assert (r.found, r.read, r.reused, r.removed) == (3, 0, 3, 0)
    assert {(m, b): v for m, b, _, v, *_ in leaderboard(con)}[("openai:gamma", "medqa")] == 0.5
    con.close()
    # gamma's run is re-scored (metrics.json rewritten), beta's folder deleted, delta's added
    shutil.rmtree(runs / "r-gamma")
    make_run(runs, "r-gamma", "openai:gamma", {"medqa": bench_metrics(0.625, category="Knowledge", cost=0.5)})
    shutil.rmtree(runs / "r-beta")
    make_run(runs, "r-delta", "openai:delta", {"medqa": bench_metrics(0.9, category="Knowledge")})
    con, r = open_index([runs], db)
    assert (r.found, r.read, r.reused, r.removed) == (3, 2, 1, 1)
    rows = {(m, b): v for m, b, _, v, *_ in leaderboard(con)}
    assert rows[("openai:gamma", "medqa")] == 0.625 and ("openai:beta", "medqa") not in rows
    assert ("openai:delta", "medqa") in rows
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (3,)
    # the in-memory index over the same folders agrees row for row
    mem, _ = open_index([runs])
    assert leaderboard(mem) == leaderboard(con)


def test_win_rates_category_means_and_cost_per_point(tmp_path):
    runs = tmp_path / "runs"
    _board(runs)
    con, _ = open_index([runs])
    pairs = {(p["model_a"], p["model_b"]): p for p in pairwise_wins(con)}
    ab = pairs[("openai:alpha", "openai:beta")]
    assert (ab["wins"], ab["ties"], ab["losses"], ab["shared"]) == (1, 1, 1, 3)
    assert ab["win_rate"] == pytest.approx(0.5)
    ag = pairs[("openai:alpha", "openai:gamma")]
    assert (ag["wins"], ag["ties"], ag["losses"], ag["shared"]) == (0, 1, 0, 1)
    assert ("openai:beta", "openai:alpha") in pairs and ("openai:alpha", "openai:alpha") not in pairs
    cats = {(c["model"], c["category"]): (c["mean"], c["benchmarks"]) for c in category_means(con)}
    # the 1-5 rating is not averaged with shares: alpha's Reasoning mean is pubmedqa alone
    assert cats[("openai:alpha", "Reasoning")] == (pytest.approx(0.7), 1)
    assert cats[("openai:beta", "Knowledge")] == (pytest.approx(0.8), 1)
    models = {m["model"]: m for m in model_summary(con)}
    a = models["openai:alpha"]
    assert a["mean"] == pytest.approx(0.6) and a["benchmarks"] == 3 and a["shares"] == 2
    # $3 on shares (the rating's $1 is not a point) over 50 + 70 points
    assert a["cost_usd"] == pytest.approx(4.0) and a["cost_per_point"] == pytest.approx(3.0 / 120)
    assert models["openai:beta"]["cost_per_point"] is None and models["openai:beta"]["costed"] == 0
    assert models["openai:gamma"]["cost_per_point"] == pytest.approx(0.5 / 50)


def test_unreadable_folders_are_reported_one_line_each_and_counted_warm_or_cold(tmp_path, capsys):
    runs = tmp_path / "runs"
    _board(runs)
    bad_manifest = make_run(runs, "bad-manifest", "openai:x", {"medqa": bench_metrics(0.1, category="K")})
    (bad_manifest / "manifest.json").write_text("{", encoding="utf-8")
    bad_metrics = make_run(runs, "bad-metrics", "openai:y", {"medqa": bench_metrics(0.1, category="K")})
    (bad_metrics / "metrics.json").write_text("not json", encoding="utf-8")
    no_metrics = make_run(
        runs, "no-metrics", "openai:z", {"medqa": bench_metrics(0.1, category="K")}, metrics=False
    )
    wrong_shape = make_run(runs, "wrong-shape", "openai:w", {"medqa": bench_metrics(0.1, category="K")})
    (wrong_shape / "metrics.json").write_text(json.dumps({"benchmarks": {"medqa": 3}}), encoding="utf-8")
    (runs / "orphan").mkdir()
    (runs / "orphan" / "samples.jsonl").write_text("{}\n", encoding="utf-8")
    (runs / "not-a-run").mkdir()  # nothing of a run in it: not reported
    running = make_run(runs, "running", "openai:v", {}, status="running", metrics=False)  # unfinished: fine
    assert running.exists()
    for attempt in ("cold", "warm"):
        code, out, err = run_cli(["leaderboard", str(runs)], capsys)
        assert code == 0, err
        lines = [line for line in err.splitlines() if line.startswith("unreadable: ")]
        assert len(lines) == 5, (attempt, err)
        for folder, why in (
            (bad_manifest, "unreadable manifest"),
            (bad_metrics, "unreadable metrics"),
            (no_metrics, "status complete but no metrics.json"),
            (wrong_shape, "benchmark 'medqa' is not an object"),
            (runs / "orphan", "no manifest.json"),
        ):
            assert any(str(folder) in line and why in line for line in lines), (why, lines)
        assert "5 unreadable" in err and "openai:alpha" in out
        assert ("0 read" in err) == (attempt == "warm")
    code, out, err = run_cli(["leaderboard", str(runs), "--html", str(tmp_path / "b.html")], capsys)
    page = (tmp_path / "b.html").read_text(encoding="utf-8").replace("<wbr>", "")
    assert "Unreadable run folders (5)" in page and str(bad_metrics) in page


def test_old_or_foreign_index_files_are_rebuilt_and_an_unwritable_one_falls_back(tmp_path, capsys):
    import duckdb

    runs = tmp_path / "runs"
    _board(runs)
    old = duckdb.connect(str(runs / "index.duckdb"))  # the schema before incremental refresh
    old.execute("CREATE TABLE runs (run_id VARCHAR)")
    old.close()
    code, out, err = run_cli(["leaderboard", str(runs)], capsys)
    assert code == 0 and "3 read" in err and "openai:beta" in out, err
    os.unlink(runs / "index.duckdb")
    (runs / "index.duckdb").mkdir()  # in the way: kept in memory, with a note; an error when asked for
    code, out, err = run_cli(["leaderboard", str(runs)], capsys)
    assert code == 0 and "indexing in memory" in err and "openai:beta" in out
    code, _, err = run_cli(["leaderboard", str(runs), "--write-index"], capsys)
    assert code == 2 and "cannot write the index" in err


def test_a_copied_run_folder_is_one_result_not_two(tmp_path):
    runs = tmp_path / "runs"
    _board(runs)
    shutil.copytree(runs / "r-alpha", runs / "r-alpha-copy")  # same run_id, two folders
    con, _ = open_index([runs])
    rows = [r for r in leaderboard(con) if r[0] == "openai:alpha"]
    assert len(rows) == 3


def test_a_large_board_prints_the_models_table_and_says_where_the_rows_are(tmp_path, capsys, monkeypatch):
    from medevals.commands import results

    runs = tmp_path / "runs"
    _board(runs)
    monkeypatch.setattr(results, "DETAIL_ROWS", 6)  # the board has 7 model x benchmark rows
    code, out, err = run_cli(["leaderboard", str(runs)], capsys)
    assert code == 0 and "value [95% CI]" not in out and "7 model x benchmark rows" in err
    assert "openai:gamma" in out and "win rate" in out
    code, out, err = run_cli(["leaderboard", str(runs), "--detail"], capsys)
    assert code == 0 and "value [95% CI]" in out and "rows:" not in err
    monkeypatch.setattr(results, "DETAIL_ROWS", 7)
    code, out, err = run_cli(["leaderboard", str(runs)], capsys)
    assert code == 0 and "value [95% CI]" in out
    code, out, err = run_cli(["leaderboard", str(runs), "--no-detail"], capsys)
    assert code == 0 and "value [95% CI]" not in out and "rows:" not in err
