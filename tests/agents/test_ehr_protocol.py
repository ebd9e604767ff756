"""The ehr-agent protocol end to end through the CLI, with scripted agents behind fake_server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli, run_fake, run_ok
from ehr_scripts import BASE, as_tool_calls, do_nothing, oracle_posts, oracle_script, scripted
from extras_skip import needs

from medevals.benchmarks import base, registry
from medevals.fhir.tasks import TaskSpec
from medevals.runs.folder import RunFolder

pytestmark = needs("fhir")


@pytest.fixture(scope="module")
def items(request):
    import os

    if not Path(os.environ.get("MEDEVALS_DATA", "/nonexistent"), "medagentbench").is_dir():
        pytest.skip("medagentbench data not present (set MEDEVALS_DATA)")
    return base.load(registry.get("ehr-agent")).items


def _run(capsys, tmp_path: Path, server, *extra: str) -> RunFolder:
    return run_ok(server, tmp_path, capsys, "-c", "8", "--new", *extra, benchmark="ehr-agent")


def _samples(folder: RunFolder) -> list:
    return list(folder.iter_samples())


def test_oracle_agent_scores_100_percent_with_per_type_table(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=scripted(items, oracle_script))
    folder = _run(capsys, tmp_path, server, "--limit", "40")
    m = folder.read_metrics()["benchmarks"]["ehr-agent"]
    assert m["n"] == 40 and m["metrics"]["success"]["value"] == 1.0
    table = m["extra"]["tables"][0]
    assert table["title"] == "Success by task type" and len(table["rows"]) == 10
    assert all(row[1] == 4 and row[2]["value"] == 1.0 for row in table["rows"])
    samples = _samples(folder)
    writes = [w for s in samples for w in s.output["writes"]]
    assert writes and all(w["accepted"] and w["status"] == 201 for w in writes)
    assert all(s.output["malformed"] == [] and s.output["status"] == "finished" for s in samples)
    # the agent saw the server's real data
    first_get = next(c for c in samples[3].calls[1].request["messages"] if "response from the GET" in str(c))
    assert '"resourceType":"Bundle"' in first_get["content"]
    # scores are recomputed from the stored transcript alone (no model, no sandbox)
    code, out, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0 and "0 sample score(s) changed" in out + err


def test_do_nothing_scores_only_where_no_action_is_correct(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=scripted(items, do_nothing))
    folder = _run(capsys, tmp_path, server, "--limit", "100")
    got = {s.item.id for s in _samples(folder) if s.score.value == 1.0}
    expected = set()
    for it in items[:100]:
        spec = TaskSpec.from_dict(it.metadata["spec"])
        # the public grader accepts FINISH([]) wherever it only asks the agent to check (5, 9, 10)
        if spec.task_type in (5, 9, 10) and not it.target["order"]:
            expected.add(it.id)
    assert expected and got == expected


def test_malformed_actions_and_rejected_writes_are_recorded_not_fatal(
    fake_server, items, tmp_path, capsys
) -> None:
    bp = next(it for it in items if it.metadata["spec"]["task_type"] == 3)

    def clumsy(item):
        if item.id != bp.id:
            return ["FINISH([])"]
        spec = TaskSpec.from_dict(item.metadata["spec"])
        good = oracle_posts(spec, item.target)[0][1]
        bad = {**good, "effectiveDateTime": "this morning"}
        return [
            "I will now look up the patient.",
            f"POST {BASE}/Observation\nnot json at all",
            f"POST {BASE}/Observation\n{json.dumps(bad)}",
            f"GET http://elsewhere.example/fhir/Patient?identifier={spec.mrn}",
            f"POST {BASE}/Observation\n{json.dumps(good)}",
            "FINISH([])",
        ]

    server = fake_server(responder=scripted(items, clumsy))
    folder = _run(capsys, tmp_path, server, "--limit", "3")
    s = next(x for x in _samples(folder) if x.item.id == bp.id)
    assert s.score.value == 1.0 and s.output["steps"] == 6
    assert [m["step"] for m in s.output["malformed"]] == [1, 2]
    assert [w["status"] for w in s.output["writes"]] == [422, 201]
    assert "effectiveDateTime" in s.output["writes"][0]["diagnostics"]
    assert s.score.values["malformed_actions"] == 2 and s.score.values["rejected_writes"] == 1
    replies = [m["content"] for m in s.calls[-1].request["messages"] if m["role"] == "user"][1:]
    assert replies[0].startswith("Invalid action (no GET, POST or FINISH)")
    assert replies[2].startswith("POST request rejected: HTTP 422")
    assert "outside the FHIR base" in replies[3]


def test_step_limit_ends_the_episode_unparsed(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=lambda path, body: f"GET {BASE}/Patient?identifier=S0000000")
    folder = _run(capsys, tmp_path, server, "--limit", "2", "--max-turns", "3")
    for s in _samples(folder):
        assert s.output["status"] == "step-limit" and s.output["steps"] == 3 and len(s.calls) == 3
        assert s.score.value == 0.0 and s.score.parsed is False


def test_native_tool_calls(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=scripted(items, lambda it: as_tool_calls(oracle_script(it))))
    folder = _run(capsys, tmp_path, server, "--limit", "10", "--set", "mode=tools")
    samples = _samples(folder)
    assert all(s.score.value == 1.0 for s in samples), [s.score.explanation for s in samples]
    req = samples[2].calls[-1].request
    assert [t["function"]["name"] for t in req["tools"]] == ["fhir_get", "fhir_post", "finish"]
    assert any(m["role"] == "tool" and m["tool_call_id"] == "call_0" for m in req["messages"])


def test_external_server_via_fhir_base_url_records_posts_without_sending(
    fake_server, items, tmp_path, capsys
) -> None:
    import httpx

    from medevals.fhir.serve import ThreadedServer, sandbox_app

    fhir = ThreadedServer(sandbox_app(300, 0)).start()
    try:
        server = fake_server(responder=scripted(items, lambda it: oracle_script(it, fhir.url)))
        folder = _run(capsys, tmp_path, server, "--limit", "10", "--fhir-base-url", fhir.url)
        samples = _samples(folder)
        assert all(s.score.value == 1.0 for s in samples), [s.score.explanation for s in samples]
        assert fhir.url in samples[0].calls[0].request["messages"][0]["content"]
        assert sum(len(s.output["writes"]) for s in samples) >= 2
        # record mode: the user's server was not written to
        r = httpx.get(f"{fhir.url}ServiceRequest", params={"_count": 1})
        assert r.json()["total"] == 0
    finally:
        fhir.stop()


def test_original_split_needs_a_server_and_reads_truth_from_it(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=scripted(items, do_nothing))
    code, _, err, _ = run_fake(
        server,
        tmp_path,
        capsys,
        "--limit",
        "2",
        benchmark="ehr-agent:original",
        runs=tmp_path / "r0",
        report=True,
    )
    assert code != 0 and "--fhir-base-url" in err
    from medevals.fhir.serve import ThreadedServer, sandbox_app

    fhir = ThreadedServer(sandbox_app(50, 0)).start()
    try:
        folder = _run(
            capsys, tmp_path, server, "--split", "original", "--limit", "10", "--fhir-base-url", fhir.url
        )
    finally:
        fhir.stop()
    by_id = {s.item.id: s for s in _samples(folder)}
    assert by_id["task1_1"].score.target["sol"] == ["S6534835"]  # from the task file
    # upstream patients are not in this server, so the truth read from it is "no value"
    assert by_id["task4_1"].output["truth"] == {"value": None, "when": None, "order": False}
    assert by_id["task4_1"].score.value == 0.0
    assert by_id["task5_1"].score.value == 1.0  # nothing due, nothing done


def test_original_tasks_run_upstreams_loop(fake_server, items, tmp_path, capsys) -> None:
    """``ehr-agent:original`` answers as MedAgentBench's loop: a reply that is not an action ends the
    episode, a POST body that is JSON is "accepted" unvalidated (not sent), one that is not is refused."""
    import httpx

    from medevals.fhir.serve import ThreadedServer, sandbox_app

    fhir = ThreadedServer(sandbox_app(20, 0)).start()
    url = fhir.url

    def script(item):
        if item.id == "task1_1":
            return ["I will look the patient up first.", 'FINISH(["S6534835"])']
        if item.id == "task2_1":  # read-only: a refused POST still fails it
            return [f"POST {url}Observation\nnot json", "FINISH([1])"]
        if item.id == "task3_1":  # not valid FHIR, but JSON: upstream accepts it and grades it
            return [
                f"POST {url}Observation\n" + json.dumps({"resourceType": "Observation", "status": "x"}),
                "FINISH([])",
            ]
        return ["FINISH([])"]

    original = base.load(registry.get("ehr-agent"), split="original").items
    server = fake_server(responder=scripted(original, script))
    try:
        folder = _run(capsys, tmp_path, server, "--split", "original", "--limit", "3", "--fhir-base-url", url)
        assert httpx.get(f"{url}Observation", params={"status": "x"}).json()["total"] == 0  # never sent
    finally:
        fhir.stop()
    by_id = {s.item.id: s for s in _samples(folder)}
    first = by_id["task1_1"]
    assert first.output["rules"] == "upstream" and first.output["status"] == "invalid-action"
    assert len(first.calls) == 1 and first.score.value == 0.0 and "invalid-action" in first.score.explanation
    second = by_id["task2_1"]
    assert second.output["writes"][0]["accepted"] is False and second.score.value == 0.0
    assert second.calls[1].request["messages"][-1]["content"] == "Invalid POST request"
    third = by_id["task3_1"]
    assert third.output["writes"][0]["accepted"] is True and third.output["writes"][0]["status"] is None
    assert third.calls[1].request["messages"][-1]["content"].startswith("POST request accepted")
    assert third.score.explanation == "Observation: category is wrong or missing"  # graded, not refused


@pytest.mark.slow
def test_oracle_scores_100_percent_on_all_300(fake_server, items, tmp_path, capsys) -> None:
    server = fake_server(responder=scripted(items, oracle_script))
    folder = _run(capsys, tmp_path, server)
    m = folder.read_metrics()["benchmarks"]["ehr-agent"]
    assert m["n"] == 300 and m["metrics"]["success"]["value"] == 1.0
