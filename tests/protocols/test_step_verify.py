"""Step verification end to end: a scripted verifier that recomputes arithmetic through the fake server."""

from __future__ import annotations

import json
import re

from clihelp import run_ok
from fake_openai import _last_user_text

from medevals.scoring.step_arith import equations, holds


def arithmetic_checker(path: str, body: dict) -> str:
    """Names the first step whose written arithmetic does not recompute; cannot see wrong values
    or wrong formula constants (their arithmetic is consistent)."""
    text = _last_user_text(body)
    steps = re.findall(r"(?m)^\[(\d+)\] (.*)$", text.split("# Solution", 1)[1])
    for n, step in steps:
        if any(holds(e) is False for e in equations(step)):
            return json.dumps({"first_wrong_step": int(n), "explanation": "arithmetic"})
    return '{"first_wrong_step": "none", "explanation": "all steps check"}'


def test_medcalc_steps_end_to_end(fake_server, tmp_path, capsys, shared_data):
    server = fake_server(responder=arithmetic_checker)
    folder = run_ok(server, tmp_path, capsys, "--limit", "60", benchmark="medcalc-steps")
    samples = list(folder.iter_samples(ordered=True))
    assert len(samples) == 60
    kinds = {s.item.subset for s in samples}
    assert {"clean", "arithmetic", "unit"} <= kinds
    for s in samples:
        kind = s.item.subset
        if kind in ("clean", "arithmetic", "unit"):
            assert s.score.value == 1.0, (s.item.id, s.score)
        else:  # a wrong value or constant with consistent arithmetic: this checker misses it
            assert s.score.answer == 0 and s.score.value == 0.0, s.item.id
    m = folder.read_metrics()["benchmarks"]["medcalc-steps"]
    assert m["metrics"]["clean_accuracy"]["value"] == 1.0
    tables = {t["title"]: t for t in m["extra"]["tables"]}
    by_type = {r[0]: r for r in tables["Step verification by error type"]["rows"]}
    assert by_type["arithmetic"][2]["value"] == 1.0
    if "value" in by_type:
        assert by_type["value"][6]["value"] == 1.0  # missed
    step = m["extra"]["step_level"]
    n_err = sum(1 for s in samples if s.item.target)
    caught = sum(1 for s in samples if s.item.target and s.item.subset in ("arithmetic", "unit"))
    assert step == {"tp": caught, "fp": 0, "fn": n_err - caught}
    out = capsys.readouterr().out
    del out


def test_an_unreadable_verdict_is_wrong_and_counted(fake_server, tmp_path, capsys, shared_data):
    server = fake_server(responder=lambda path, body: "I think it looks fine overall.")
    folder = run_ok(server, tmp_path, capsys, "--limit", "4", benchmark="medcalc-steps")
    m = folder.read_metrics()["benchmarks"]["medcalc-steps"]
    assert m["n_unparseable"] == 4 and m["metrics"]["clean_accuracy"]["value"] == 0.0
