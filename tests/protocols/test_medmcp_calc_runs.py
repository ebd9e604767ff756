"""medmcp-calc end to end against the fake server: reported calculators, the judged reading, tools."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clihelp import run_fake

from medevals.benchmarks import base, registry
from medevals.benchmarks.medmcp_calc import SETTING

pytestmark = pytest.mark.usefixtures("shared_data")


def _items() -> list[Any]:
    return list(base.load(registry.get("medmcp-calc"), "test").items)


def _user(body: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def _is_judge(body: dict[str, Any]) -> bool:
    return "medical calculator evaluation expert" in _user(body)


def _answer(entries: list[tuple[str, Any]]) -> str:
    return "Here is my assessment.\n" + json.dumps(
        {"calculators": [{"name": n, "value": v} for n, v in entries]}
    )


def reporter(choose, judge: str | None = None):
    """Answers each task with ``choose(item)`` -> [(name, value)]; the judge replies ``judge``."""
    by_case = {it.input: it for it in _items()}

    def respond(path: str, body: dict[str, Any]) -> str:
        if _is_judge(body):
            return judge or "{}"
        case = _user(body).split("\n\n", 1)[1]
        return _answer(choose(by_case[case]))

    return respond


def run(server, tmp_path, capsys, *extra: str, limit: int = 3):
    return run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        str(limit),
        *extra,
        benchmark="medmcp-calc",
        cache=tmp_path / "c.sqlite",
    )


def test_every_gold_calculator_right_scores_one_and_the_setting_is_labelled(fake_server, tmp_path, capsys):
    server = fake_server(responder=reporter(lambda it: [(g["name"], g["final_answer"]) for g in it.target]))
    code, _, err, folder = run(server, tmp_path, capsys)
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["medmcp-calc"]
    assert m["metrics"]["value_accuracy"]["value"] == 1.0
    assert m["metrics"]["selection_precision"]["value"] == 1.0
    assert m["metrics"]["selection_recall"]["value"] == 1.0
    manifest = json.loads((folder.path / "manifest.json").read_text())
    rec = next(b for b in manifest["benchmarks"] if b["name"] == "medmcp-calc")
    assert SETTING in rec["task_type"]
    assert SETTING in m["extra"]["tables"][0]["title"]
    # the prompt: the fuzzy question and the gold inputs, never the plan that names the calculators
    body = server.requests[0]["body"]
    text = _user(body)
    assert "Patient data (given here" in text and "Steps:" not in text
    assert '{"calculators": [' in text


def test_partial_answer_precision_recall_and_values(fake_server, tmp_path, capsys):
    """Task 1 (8 gold): report ECOG right, CrCl wrong, CKD-EPI right under its short name, one extra."""

    def choose(it):
        return [
            ("ECOG performance status", 1),
            ("Cockcroft-Gault creatinine clearance", 45),
            ("CKD-EPI", "31 mL/min/1.73 m²"),
            ("Wells score", 2),
        ]

    server = fake_server(responder=reporter(choose))
    code, _, err, folder = run(server, tmp_path, capsys, limit=1)
    assert code == 0, err
    (s,) = list(folder.iter_samples())
    v = s.score.values
    assert v["selection_recall"] == pytest.approx(3 / 8)
    assert v["selection_precision"] == pytest.approx(3 / 4)
    assert v["value_accuracy"] == pytest.approx(2 / 8)
    assert v["extra_calculators"] == 1.0 and v["reported_calculators"] == 4.0
    assert s.score.value == pytest.approx(2 / 8) and s.score.parsed


def test_no_json_is_unparsed_and_scores_zero(fake_server, tmp_path, capsys):
    server = fake_server(responder=lambda path, body: "The ECOG status is 1 and CrCl is 29.")
    code, _, err, folder = run(server, tmp_path, capsys, limit=1)
    assert code == 0, err
    (s,) = list(folder.iter_samples())
    assert s.score.value == 0.0 and not s.score.parsed
    assert folder.read_metrics()["benchmarks"]["medmcp-calc"]["n_unparseable"] == 1


def test_judged_reading_beside_the_rule_and_as_headline(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=reporter(
            lambda it: [("ECOG", 1), ("CrCl", 29)],
            judge='{"selected": [1, 4], "correct": [1, 4], "explanation": "CrCl is Cockcroft-Gault"}',
        )
    )
    code, _, err, folder = run(
        server, tmp_path, capsys, "--judge", "openai:fake", "--set", "grader=judge", limit=1
    )
    assert code == 0, err
    (s,) = list(folder.iter_samples())
    v = s.score.values
    # the rule does not know "CrCl"; the judge, like upstream's LLM comparison, does
    assert v["rule_selection_recall"] == pytest.approx(1 / 8) and v["rule_value_accuracy"] == pytest.approx(
        1 / 8
    )
    assert v["judged_selection_recall"] == pytest.approx(2 / 8) and v[
        "judged_value_accuracy"
    ] == pytest.approx(2 / 8)
    assert v["judged_selection_precision"] == 1.0
    assert s.score.value == pytest.approx(2 / 8) and v["judge:0"] == pytest.approx(2 / 8)
    judge_prompt = _user(next(r["body"] for r in server.requests if _is_judge(r["body"])))
    assert "1. Eastern Cooperative Oncology Group (ECOG) Performance Status: 1" in judge_prompt
    assert "- CrCl: 29" in judge_prompt


def test_malformed_verdict_leaves_judged_values_unscored(fake_server, tmp_path, capsys):
    server = fake_server(
        responder=reporter(lambda it: [("ECOG", 1)], judge='{"selected": [1, 99], "correct": [1]}')
    )
    code, _, err, folder = run(
        server, tmp_path, capsys, "--judge", "openai:fake", "--set", "grader=judge", "--allow-errors", limit=1
    )
    assert code == 0, err
    (s,) = list(folder.iter_samples())
    assert s.score.value is None and s.score.values["judged_value_accuracy"] is None
    assert s.score.values["rule_value_accuracy"] == pytest.approx(1 / 8)  # the rule still reads it
    assert "not one of the numbered items" in s.score.explanation
    assert folder.read_metrics()["benchmarks"]["medmcp-calc"]["n_unscored"] == 1


def test_library_tools_are_offered_and_their_results_reported(fake_server, tmp_path, capsys):
    """Task 20 needs a MAP (128/78 mm Hg -> 95): the model calls medevals' ``map`` tool and reports it."""
    items = _items()
    task = next(i for i, it in enumerate(items) if it.id == "medmcp-calc_020_53b7e451")

    def respond(path: str, body: dict[str, Any]):
        assert any(t["function"]["name"] == "map" for t in body["tools"])
        tool_msgs = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool_msgs:
            call = {
                "id": "c1",
                "type": "function",
                "function": {"name": "map", "arguments": '{"sys_bp": 128, "dia_bp": 78}'},
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
        result = json.loads(tool_msgs[-1]["content"])["result"]
        return _answer([("Mean Arterial Pressure", result)])

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, "--tools", "calculators", limit=task + 1)
    assert code == 0, err
    s = next(x for x in folder.iter_samples() if x.item.id == "medmcp-calc_020_53b7e451")
    assert s.variant == "tools" and s.output["tool_calls"][0]["result"]["result"] == pytest.approx(94.6667)
    v = s.score.values
    assert (
        v["tool_calls"] == 1.0 and v["library_tools_used"] == 1.0
    )  # MAP is the task's one mapped calculator
    assert v["value_accuracy"] == pytest.approx(1 / len(s.item.target))
