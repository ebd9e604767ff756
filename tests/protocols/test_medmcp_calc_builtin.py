"""medmcp-calc on the embedded model as the candidate and the judge (real llama.cpp, CPU, slow)."""

import pytest
from clihelp import run_ok


@pytest.mark.slow
def test_medmcp_calc_on_builtin_model(shared_data, tmp_path, capsys):
    folder = run_ok(
        None,
        tmp_path,
        capsys,
        "--judge",
        "builtin:gemma3-270m",
        "--limit",
        "2",
        "--set",
        "max_tokens=128",
        # the judge's defaults (768 tokens, 3 fresh calls each with a repair turn) are up to six
        # long generations per item on a CPU: ~25 min under load; one short call proves the path
        "--set",
        "judge_max_tokens=96",
        "--set",
        "judge_attempts=1",
        model="builtin:gemma3-270m",
        benchmark="medmcp-calc",
        runs=tmp_path,
        report=True,
    )
    m = folder.read_metrics()["benchmarks"]["medmcp-calc"]
    assert m["n"] == 2 and m["n_errors"] == 0
    for s in folder.iter_samples():
        assert all(c.kind == "completion" for c in s.calls)
        assert s.calls[0].request["prompt"].endswith('{"calculators": [{"name": "')
        assert s.score.values["rule_value_accuracy"] is not None
        assert "judged_value_accuracy" in s.score.values  # a value or None (a failed judge), never absent
    assert m["extra"]["tables"][0]["title"].startswith(
        "MedMCP-Calc, inputs given (not the published setting)"
    )
    assert (folder.path / "report.html").exists()
