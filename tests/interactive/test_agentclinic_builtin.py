"""AgentClinic on the embedded model as doctor, patient, measurement reader and judge (real llama.cpp, slow)."""

import pytest
from clihelp import run_ok


@pytest.mark.slow
def test_agentclinic_on_builtin_model(shared_data, tmp_path, capsys):
    folder = run_ok(
        None,
        tmp_path,
        capsys,
        "--patient-model",
        "builtin:gemma3-270m",
        "--judge",
        "builtin:gemma3-270m",
        "--max-turns",
        "3",
        "--set",
        "turn_budgets=2",
        "--limit",
        "2",
        model="builtin:gemma3-270m",
        benchmark="agentclinic",
        runs=tmp_path,
        report=True,
    )
    m = folder.read_metrics()["benchmarks"]["agentclinic"]
    assert m["n"] == 8 and m["n_errors"] == 0
    assert m["skipped"]["n"] == 15
    samples = list(folder.iter_samples())
    assert {s.variant for s in samples} == {"turns3", "turns2", "full", "initial"}
    for s in samples:
        # Every episode ends in a recorded way, whatever the tiny base model writes.
        assert s.output["stop"] in {
            "answer",
            "no_diagnosis",
            "format_failure",
            "patient_failure",
            "measurement_failure",
        }
        assert all(c.kind == "completion" for c in s.calls)
        assert s.output["turns"] <= (int(s.variant[5:]) if s.variant.startswith("turns") else 1)
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert "Accuracy by turn budget" in titles
    assert (folder.path / "report.html").exists()
