"""Rescoring a calculation run applies the current answer reader: scores are pure functions of the
stored replies (issue 14: a run scored by the old last-number reader is corrected by ``rescore``)."""

from __future__ import annotations

import json

import pytest
from clihelp import run_cli, run_ok

from medevals.benchmarks import base, registry

LIMIT = 8  # cockcroft-gault (4 cases, one missing a value) + ckd-epi-2021 (4)


def unit_replies(path: str, body: dict) -> str:
    """Free text with the unit after the answer, as chat models write it; N/A when a value is missing."""
    items = {it.context: it for it in base.load(registry.get("medcalc-gen"), seed=7).items[:LIMIT]}
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    note = user.split("Here is the patient note:\n", 1)[1].split("\n\nHere is the task:", 1)[0]
    answer = items[note].target["answer"]
    if answer == "N/A":
        return "The creatinine is not reported, so this cannot be calculated: N/A."
    return f"Working through the formula, the result is {answer} mL/min/1.73 m²."


def test_rescore_rereads_stored_replies_and_tolerance_is_in_the_manifest(fake_server, tmp_path, capsys):
    server = fake_server(responder=unit_replies)
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "--seed",
        "7",
        "--limit",
        str(LIMIT),
        "-q",
        "--set",
        "tolerance=physician",
        benchmark="medcalc-gen",
    )
    manifest = json.loads(folder.manifest_path.read_text())
    assert manifest["benchmarks"][0]["options"]["tolerance"] == "physician"
    m = folder.read_metrics()["benchmarks"]["medcalc-gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1.0)

    # what the earlier last-number reader stored for these replies: 1.73 read, every row wrong
    lines = []
    for line in folder.samples_path.read_text().splitlines():
        s = json.loads(line)
        s["score"].update(value=0.0, answer=1.73, values={"accuracy": 0.0})
        lines.append(json.dumps(s))
    folder.samples_path.write_text("\n".join(lines) + "\n")

    code, out, _err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0 and f"{LIMIT} sample score(s) changed" in " ".join(out.split())
    m = folder.read_metrics()["benchmarks"]["medcalc-gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1.0)
    samples = list(folder.iter_samples())
    assert {s.score.answer for s in samples if s.item.target["answer"] == "N/A"} == {"N/A"}
    assert all("physician rule" in s.score.explanation for s in samples)


def test_unknown_tolerance_is_a_one_line_error(fake_server, tmp_path, capsys):
    server = fake_server(responder=unit_replies)
    code, _out, err = run_cli(
        [
            "run",
            "-m",
            "openai:fake",
            "--base-url",
            server.base_url,
            "-b",
            "medcalc-gen",
            "--limit",
            "2",
            "--set",
            "tolerance=loose",
            "--runs-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 2 and "tolerance" in err and "Traceback" not in err
