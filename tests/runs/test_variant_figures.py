"""A multi-strategy run: every figure (headline, subsets, variant rows, index rows, terminal table)
carries the n of its own samples, and a variant that applies to no item shows no accuracy."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from clihelp import run_fake, run_ok
from fake_openai import _last_user_text
from rich.console import Console

from medevals.report.html import render_html
from medevals.report.table import run_table
from medevals.runs.index import build_index
from medevals.scoring.stats import wilson

N = 10
WITH_UNITS = {0, 1, 2}  # the only questions carrying a quantity perturb:units can rewrite


def _write_set(folder: Path, with_units: set[int] = WITH_UNITS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "items.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(N):
            weight = f" The patient weighs {60 + i} kg." if i in with_units else ""
            row = {
                "id": f"q{i}",
                "question": f"Case {i}.{weight} Which option is correct for case {i}?",
                "options": {k: f"option {k} of case {i}" for k in "ABCD"},
                "answer": "A",
                "subset": "even" if i % 2 == 0 else "odd",
            }
            fh.write(json.dumps(row) + "\n")
    spec = folder / "spec.yaml"
    spec.write_text(
        "name: varset\ndata: items.jsonl\n"
        "fields: {id: id, question: question, options: options, answer: answer, subset: subset}\n"
        "options: {mode: generate}\n",
        encoding="utf-8",
    )
    return spec


def _responder(path: str, body: dict[str, Any]) -> str:
    """Zero-shot: right on cases 0-6 (7/10). Chain of thought: right on even cases only (5/10).
    A question rewritten into pounds: always wrong. Answers by option text, so a reordering of
    the options changes nothing."""
    text = _last_user_text(body)
    case = int(re.search(r"Case (\d+)\.", text).group(1))  # type: ignore[union-attr]
    cot = any("step by step" in str(m.get("content")) for m in body["messages"])
    if " lb" in text:
        pick = "B"
    elif cot:
        pick = "A" if case % 2 == 0 else "C"
    else:
        pick = "A" if case < 7 else "D"
    shown = dict(re.findall(r"^([A-D])\. option ([A-D]) of case", text, re.M))
    letter = next(k for k, v in shown.items() if v == pick)
    return f"The answer is ({letter})."


def _ci(k: int, n: int) -> tuple[float, float]:
    return wilson(k, n)


def _table_rows(metrics: dict[str, Any]) -> dict[str, list[str]]:
    """The terminal run table as {first cell: other cells}."""
    console = Console(width=200, record=True)
    console.print(run_table(metrics, compact=True))
    rows = {}
    for line in console.export_text().splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


def test_every_figure_of_a_multi_strategy_run_has_its_own_n(fake_server, tmp_path, capsys):
    spec = _write_set(tmp_path / "set")
    server = fake_server(responder=_responder)
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "--strategy",
        "zero-shot,cot,perturb:units,perturb:order",
        benchmark=str(spec),
    )
    samples = list(folder.iter_samples())
    assert len(samples) == 4 * N
    # perturb:units asks the model only about the 3 questions with a unit (plus 30 other calls)
    assert server.n_requests == 3 * N + len(WITH_UNITS)
    b = folder.read_metrics()["benchmarks"]["varset"]

    # the expected figures, from the scripted answers (not from medevals' aggregation)
    expected = {
        "zero-shot": (7, N),
        "cot": (5, N),
        "perturb:units": (0, len(WITH_UNITS)),
        "perturb:order": (7, N),
    }
    assert b["headline_variant"] == "zero-shot"
    head = b["metrics"]["accuracy"]
    assert (head["value"], head["n"]) == (0.7, N)
    assert (head["ci_low"], head["ci_high"]) == _ci(7, N)
    for name, (k, n) in expected.items():
        v = b["variants"][name]
        assert (v["n_scored"], v["value"]) == (n, k / n), name
        assert (v["ci_low"], v["ci_high"]) == _ci(k, n), name
        assert v["n"] == N and v["expected"] == N, name
        mine = [s for s in samples if s.variant == name and s.score and s.score.applicable]
        assert len(mine) == n and sum(s.score.value for s in mine) == k, name
    assert b["variants"]["perturb:units"]["n_not_applicable"] == N - len(WITH_UNITS)
    # subsets of the headline variant only: even cases 0,2,4,6,8 -> 4/5 right, odd 1,3,5,7,9 -> 3/5
    assert {k: (v["value"], v["n"]) for k, v in b["subsets"].items()} == {"even": (0.8, 5), "odd": (0.6, 5)}
    cot_sub = b["variants"]["cot"]["subsets"]
    assert {k: (v["value"], v["n"]) for k, v in cot_sub.items()} == {"even": (1.0, 5), "odd": (0.0, 5)}

    # the results index: the headline row and each variant row carry their own n
    con = build_index([folder.path])
    rows = con.execute(
        "SELECT variant, value, ci_low, n, n_scored, n_not_applicable FROM results ORDER BY variant"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert got[""][:4] == (0.7, _ci(7, N)[0], N, N)
    assert got["perturb:units"][3:] == (3, 7)
    assert got["cot"][3] == N and got["cot"][0] == 0.5

    # the terminal table: headline 10/10 (not 40/40), the units row 3/10 with 7 n/a
    rows = _table_rows({"benchmarks": {"varset": b}})
    assert rows["varset [zero-shot]"] == ["70.0 [39.7, 89.2]", "10/10", "0", "0", "0"]
    assert rows["cot"] == ["50.0 [23.7, 76.3]", "10/10", "0", "0", "0"]
    assert rows["perturb:units"] == ["0.0 [0.0, 56.1]", "3/10 (7 n/a)", "0", "0", "0"]


def test_a_variant_applicable_to_no_item_shows_n_a(fake_server, tmp_path, capsys):
    spec = _write_set(tmp_path / "set", with_units=set())
    server = fake_server(responder=_responder)
    folder = run_ok(server, tmp_path, capsys, "--strategy", "zero-shot,perturb:units", benchmark=str(spec))
    assert server.n_requests == N  # no question has a unit: the probe asks nothing
    b = folder.read_metrics()["benchmarks"]["varset"]
    units = b["variants"]["perturb:units"]
    assert units["not_applicable"] is True and units["n_scored"] == 0 and units["n_not_applicable"] == N
    assert units["value"] is None  # no accuracy (NaN, stored as null), not 0%
    rows = _table_rows({"benchmarks": {"varset": b}})
    assert rows["perturb:units"] == ["n/a", "0/10 (10 n/a)", "0", "0", "0"]
    con = build_index([folder.path])
    row = con.execute("SELECT value, n_scored FROM results WHERE variant = 'perturb:units'").fetchone()
    assert row == (None, 0)
    page = render_html([folder])
    assert "by subset (headline variant zero-shot; per variant in metrics.json)" in page
    assert "n/a (0 of 10 items applicable)" in page
    assert "<dt>n scored</dt><dd>10/10</dd>" in page and "20/20" not in page


def test_errors_and_unscored_sit_beside_each_variants_metric(fake_server, tmp_path, capsys):
    spec = _write_set(tmp_path / "set")
    # every request about case 9 fails for good (HTTP 401): one error in each variant that asks it
    server = fake_server(responder=_responder, echo_auth_marker="Case 9.")
    _code, _out, _err, folder = run_fake(
        server, tmp_path, capsys, "--strategy", "zero-shot,cot,perturb:units", benchmark=str(spec)
    )
    assert folder is not None
    b = folder.read_metrics()["benchmarks"]["varset"]
    rows = _table_rows({"benchmarks": {"varset": b}})
    # zero-shot: cases 0-6 right of the 9 scored; the error is counted beside it, not hidden in n
    assert rows["varset [zero-shot]"] == [
        f"77.8 [{100 * _ci(7, 9)[0]:.1f}, {100 * _ci(7, 9)[1]:.1f}]",
        "9/10",
        "0",
        "1",
        "1",
    ]
    assert rows["cot"][1:] == ["9/10", "0", "1", "1"]
    assert rows["perturb:units"][1:] == ["3/10 (7 n/a)", "0", "0", "0"]  # case 9 has no unit: never asked
    assert (b["n_errors"], b["variants"]["zero-shot"]["n_errors"]) == (2, 1)
