"""The interactive protocol on the embedded model as expert and patient (real llama.cpp, CPU, slow)."""

import pytest
from clihelp import run_ok


@pytest.mark.slow
def test_mediq_on_builtin_expert_and_patient(shared_data, tmp_path, capsys):
    folder = run_ok(
        None,
        tmp_path,
        capsys,
        "--patient-model",
        "builtin:gemma3-270m",
        "--max-turns",
        "2",
        "--limit",
        "2",
        model="builtin:gemma3-270m",
        benchmark="mediq-imedqa",
        runs=tmp_path,
        report=True,
    )
    m = folder.read_metrics()["benchmarks"]["mediq-imedqa"]
    assert m["n"] == 6 and m["n_errors"] == 0
    samples = list(folder.iter_samples())
    assert {s.variant for s in samples} == {"interactive", "full", "initial"}
    for s in samples:
        # Every episode ends in a recorded way, whatever the tiny base model writes.
        assert s.output["stop"] in {"answer", "abstain", "format_failure", "patient_failure"}
        assert all(c.kind == "completion" for c in s.calls)
        assert s.output["transcript"] and s.output["transcript"][-1]["role"] in {"expert", "patient"}
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert any(t.startswith("Accuracy vs number of questions") for t in titles)
    assert m["extra"]["plots"][0]["series"][-1]["name"] == "initial information only (lower bound)"
    assert (folder.path / "report.html").exists()
