"""metrics.json is a function of the responses: identical answers give a byte-identical file.

Latency, the run id and the samples fingerprint live in execution.json (``runs/execution.py``);
metrics are computed over samples in unit order, so the order in which units finished (the
concurrency, a slow reply, a Ray cluster) changes nothing.
"""

from __future__ import annotations

import json

from clihelp import run_ok
from fake_openai import Faults, mcq_by_item_number
from genbench import write_bench

from medevals.runs import execution


def _run(server, tmp_path, capsys, spec, name: str, *extra: str):
    return run_ok(
        server,
        tmp_path,
        capsys,
        "--strategy",
        "zero-shot,cot",
        "--price-in",
        "0.37",
        "--price-out",
        "1.91",
        *extra,
        benchmark=str(spec),
        runs=tmp_path / name,
    )


def test_identical_answers_give_byte_identical_metrics_whatever_the_timing(fake_server, tmp_path, capsys):
    spec = write_bench(tmp_path / "bench", 40)
    steady = fake_server(responder=mcq_by_item_number)
    # Another server with the same answers, 30% of them slowed down: units finish in another order
    # and every latency differs.
    jumpy = fake_server(responder=mcq_by_item_number, faults=Faults(rate_slow=0.3, slow_s=0.05), seed=3)
    a = _run(steady, tmp_path, capsys, spec, "a", "-c", "1")
    b = _run(jumpy, tmp_path, capsys, spec, "b", "-c", "8")

    order = [[json.loads(x)["unit_id"] for x in f.samples_path.read_text().splitlines()] for f in (a, b)]
    assert sorted(order[0]) == sorted(order[1]) and order[0] != order[1]  # finished in another order
    assert a.metrics_path.read_bytes() == b.metrics_path.read_bytes()

    ma, mb = a.read_metrics(), b.read_metrics()  # merged back: readers see latency as before
    la, lb = ma["benchmarks"]["gen"]["latency_s"], mb["benchmarks"]["gen"]["latency_s"]
    assert la["n"] == lb["n"] == 80 and la["p50"] != lb["p50"]
    assert ma["run_id"] == a.path.name and ma["samples_bytes"] == a.samples_path.stat().st_size
    on_disk = json.loads(a.metrics_path.read_text())
    assert "latency_s" not in on_disk["benchmarks"]["gen"] and "run_id" not in on_disk
    grid = next(t for t in ma["benchmarks"]["gen"]["extra"]["tables"] if t.get("timing_columns"))
    assert all(isinstance(row[5], str) and row[5].endswith("s") for row in grid["rows"])
    assert all("latency_s" in p for p in ma["benchmarks"]["gen"]["extra"]["pareto"])
    assert a.metrics_current() and b.metrics_current()


def test_split_and_merge_are_inverse():
    metrics = {
        "run_id": "r1",
        "model": "openai:x",
        "samples_bytes": 123,
        "benchmarks": {
            "b": {
                "metrics": {"accuracy": {"value": 0.5}},
                "latency_s": {"n": 2, "p50": 0.1, "p95": 0.2, "mean": 0.15},
                "extra": {
                    "tables": [
                        {"columns": ["s", "x"], "rows": [["a", 1]]},
                        {
                            "columns": ["s", "lat"],
                            "rows": [["a", "0.1s"], ["b", "0.2s"]],
                            "timing_columns": [1],
                        },
                    ],
                    "pareto": [{"label": "a", "latency_s": 0.1}, {"label": "b", "latency_s": 0.2}],
                },
            },
            "c": {"metrics": {}},
        },
    }
    results, facts = execution.split(metrics)
    assert metrics["benchmarks"]["b"]["latency_s"]["n"] == 2  # the input is untouched
    assert "run_id" not in results and "latency_s" not in results["benchmarks"]["b"]
    assert results["benchmarks"]["b"]["extra"]["tables"][1]["rows"] == [["a", None], ["b", None]]
    assert results["benchmarks"]["b"]["extra"]["pareto"] == [{"label": "a"}, {"label": "b"}]
    assert facts["run_id"] == "r1" and facts["samples_bytes"] == 123
    assert execution.merge(json.loads(json.dumps(results)), facts) == metrics
