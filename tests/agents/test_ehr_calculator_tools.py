"""The EHR agent can use the clinical calculators beside the FHIR tools (``--tools calculators``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from clihelp import run_fake
from ehr_scripts import as_tool_calls, oracle_script, scripted
from extras_skip import needs

from medevals.benchmarks import base, registry

pytestmark = needs("fhir")


@pytest.fixture(scope="module")
def items():
    import os

    if not Path(os.environ.get("MEDEVALS_DATA", "/nonexistent"), "medagentbench").is_dir():
        pytest.skip("medagentbench data not present (set MEDEVALS_DATA)")
    return base.load(registry.get("ehr-agent")).items


def _calc_call(arguments: dict) -> dict:
    """A chat.completion whose one tool call asks the BMI calculator."""
    reply = copy.deepcopy(as_tool_calls(["FINISH([])"])[0])
    call = reply["choices"][0]["message"]["tool_calls"][0]
    call["id"] = "calc_0"
    call["function"] = {"name": "bmi", "arguments": json.dumps(arguments)}
    return reply


def _script(args: dict):
    return lambda it: [_calc_call(args), *as_tool_calls(oracle_script(it))]


def test_calculator_calls_run_locally_and_the_oracle_still_scores(fake_server, items, tmp_path, capsys):
    server = fake_server(responder=scripted(items, _script({"weight": 80, "height": 180})))
    code, _, err, folder = run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        "4",
        "--set",
        "mode=tools",
        "--tools",
        "calculators",
        benchmark="ehr-agent",
    )
    assert code == 0, err
    samples = list(folder.iter_samples())
    assert all(s.score.value == 1.0 for s in samples), [s.score.explanation for s in samples]
    for s in samples:
        (calc,) = s.output["calculator_calls"]
        assert calc["tool"] == "bmi" and calc["result"]["result"] == pytest.approx(24.6914, abs=1e-3)
        assert s.score.values["calculator_calls"] == 1.0
    req = samples[0].calls[1].request
    names = [t["function"]["name"] for t in req["tools"]]
    assert names[:3] == ["fhir_get", "fhir_post", "finish"] and "bmi" in names and len(names) == 3 + 55
    tool_reply = next(m for m in req["messages"] if m.get("tool_call_id") == "calc_0")
    assert json.loads(tool_reply["content"])["unit"] == "kg/m^2"
    assert folder.read_metrics()["benchmarks"]["ehr-agent"]["metrics"]["calculator_calls"]["value"] == 1.0


def test_calculator_errors_come_back_as_data_not_failures(fake_server, items, tmp_path, capsys):
    server = fake_server(responder=scripted(items, _script({"weight": 80})))
    code, _, err, folder = run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        "2",
        "--set",
        "mode=tools",
        "--tools",
        "calculators",
        benchmark="ehr-agent",
    )
    assert code == 0, err
    for s in folder.iter_samples():
        result = s.output["calculator_calls"][0]["result"]
        assert result["error_type"] == "MissingParameter" and result["parameter"] == "height"
        assert s.output["malformed"] == [] and s.score.value == 1.0


def test_calculators_need_tools_mode(fake_server, items, tmp_path, capsys):
    server = fake_server()
    code, _, err, _ = run_fake(
        server, tmp_path, capsys, "--limit", "1", "--tools", "calculators", benchmark="ehr-agent"
    )
    assert code != 0 and "--set mode=tools" in err and not server.requests
