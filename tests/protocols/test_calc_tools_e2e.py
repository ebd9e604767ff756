"""calc protocol end to end against the fake server: plain answers, and calculators as function-calling tools."""

import json
from pathlib import Path

import pytest
from clihelp import run_ok

from medevals.benchmarks import base, registry
from medevals.runs.folder import RunFolder

LIMIT = 8  # cockcroft-gault (4 cases, one missing a value) + ckd-epi-2021 (4)


def _items(seed: int):
    return base.load(registry.get("medcalc-gen"), seed=seed).items[:LIMIT]


def _note_of(body: dict) -> str:
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    return user.split("Here is the patient note:\n", 1)[1].split("\n\nHere is the task:", 1)[0]


def tool_agent(items):
    """Calls the right calculator with the values the generator wrote, then answers with the tool result."""
    by_note = {it.context: it for it in items}

    def respond(path: str, body: dict):
        assert body.get("tools"), "tools must be offered in tool mode"
        it = by_note[_note_of(body)]
        tool_msgs = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool_msgs:
            if it.metadata["missing"]:
                return '{"answer": "N/A"}'
            name = {2: "cockcroft_gault", 3: "ckd_epi_2021"}[it.metadata["calculator_id"]]
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(it.metadata["inputs"])},
            }
            return {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            }
        result = json.loads(tool_msgs[-1]["content"])
        return json.dumps({"answer": str(result["result"])})

    return respond


def _run(server, tmp_path, capsys, *extra) -> RunFolder:
    args = ["--seed", "7", "--limit", str(LIMIT), "-q", *extra]
    return run_ok(server, tmp_path, capsys, *args, benchmark="medcalc-gen", report=True)


def test_tools_protocol_executes_calls_and_feeds_results_back(fake_server, tmp_path, capsys):
    items = _items(7)
    server = fake_server(responder=tool_agent(items))
    folder = _run(server, tmp_path, capsys, "--tools", "calculators")
    m = folder.read_metrics()["benchmarks"]["medcalc-gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1.0)
    samples = list(folder.iter_samples())
    computed = [s for s in samples if s.item.metadata["missing"] is None]
    assert computed and all(len(s.calls) == 2 for s in computed)
    second = computed[0].calls[1].request["messages"]
    assert second[-1]["role"] == "tool" and "result" in json.loads(second[-1]["content"])
    assert second[-2]["tool_calls"][0]["function"]["name"] in ("cockcroft_gault", "ckd_epi_2021")
    assert m["metrics"]["tool_calls"]["value"] == pytest.approx(len(computed) / len(samples))
    tables = {t["title"] for t in m["extra"]["tables"]}
    assert {"Accuracy by calculator", "Accuracy by category"} <= tables


def test_step_limit_stops_a_model_that_only_calls_tools(fake_server, tmp_path, capsys):
    def loop(path, body):
        call = {"id": "c", "type": "function", "function": {"name": "bmi", "arguments": "{}"}}
        return {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                }
            ],
            "usage": {},
        }

    server = fake_server(responder=loop)
    folder = _run(server, tmp_path, capsys, "--tools", "calculators", "--max-turns", "3")
    samples = list(folder.iter_samples())
    assert all(len(s.calls) == 3 for s in samples)
    assert all(s.score.value == 0.0 for s in samples)
    err = json.loads(samples[0].calls[1].request["messages"][-1]["content"])
    assert err["error_type"] == "MissingParameter"


def test_without_tools_the_answer_json_is_scored(fake_server, tmp_path, capsys):
    items = {it.context: it for it in _items(7)}

    def respond(path, body):
        assert "tools" not in body
        it = items[_note_of(body)]
        return "Step by step... " + json.dumps(
            {"step_by_step_thinking": "...", "answer": it.target["answer"]}
        )

    server = fake_server(responder=respond)
    folder = _run(server, tmp_path, capsys)
    m = folder.read_metrics()["benchmarks"]["medcalc-gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1.0)
    assert Path(folder.path / "report.html").exists()
