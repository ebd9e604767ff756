"""Plots in the HTML report: generic SVG plots, the cross-run Pareto frontier, escaping, and a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from clihelp import run_ok

from medevals.report.html import render_html
from medevals.report.html.plots import svg_plot
from medevals.runs.folder import RunFolder

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _tags(html: str) -> list[str]:
    seen: list[str] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.append(tag)
            for k, v in attrs:
                assert not k.startswith("on"), (tag, k, v)

    P().feed(html)
    return seen


def test_svg_plot_escapes_every_text_and_draws_frontier():
    plot = {
        "title": EVIL,
        "kind": "scatter",
        "x_label": EVIL,
        "y_label": EVIL,
        "frontier": True,
        "series": [
            {
                "name": EVIL,
                "points": [[100, 0.5], [200, 0.4], [400, 0.7], ["bad", 1], [float("nan"), 0.2]],
                "labels": [EVIL, "dominated", "best"],
                "intervals": [[0.3, 0.7], [0.2, 0.6], [0.5, 0.9]],
            }
        ],
    }
    svg = svg_plot(plot)
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    assert "script" not in _tags(svg) and "img" not in _tags(svg)
    assert svg.count('r="8"') == 2  # frontier rings: (100, .5) and (400, .7), not (200, .4)
    assert svg.count('r="4"') == 3  # invalid points are skipped
    assert "Pareto frontier" in svg


def test_reliability_and_bar_plots():
    rel = svg_plot(
        {
            "title": "R",
            "kind": "line",
            "reference": "diagonal",
            "x_range": [0, 1],
            "y_range": [0, 1],
            "series": [{"name": "a", "points": [[0.2, 0.1], [0.8, 0.9]]}],
        }
    )
    assert "perfect calibration" in rel and "<polyline" in rel
    bar = svg_plot({"title": "B", "kind": "bar", "series": [{"name": "s", "points": [[0, 0.4], [1, 0.3]]}]})
    assert bar.count("<rect") == 3  # frame + 2 bars
    assert svg_plot({"title": "empty", "series": []}) == ""  # no empty frame on the page


def _fake_run(server, tmp_path: Path, capsys, strategy: str, name: str) -> RunFolder:
    args = ["--limit", "4", "--strategy", strategy]
    return run_ok(server, tmp_path, capsys, *args, model=f"openai:{name}", runs=tmp_path / name, report=True)


def _responder(path, body):
    text = str(body)
    return f"<script>alert(1)</script> The answer is ({'ABCD'[len(text) % 4]}).\nConfidence: 70%"


def test_pareto_across_runs(fake_server, tmp_path, capsys):
    server = fake_server(responder=_responder)
    a = _fake_run(server, tmp_path, capsys, "zero-shot,cot+conf,sc3", "model-a")
    b = _fake_run(server, tmp_path, capsys, "zero-shot,shuffle3", "model-b")
    html = render_html([a, b])
    section = html.split('<section id="pareto">', 1)[1].split("</section>", 1)[0]
    assert "openai:model-a" in section and "openai:model-b" in section
    assert section.count("<tr><td>") == 5  # 3 + 2 (model, strategy) points in one table
    assert "✓" in section and "Accuracy vs tokens per item" in section
    assert "<script>alert" not in html
    assert 'id="protocol-plots"' in html and "Reliability diagram" in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_report_renders_in_headless_chromium(fake_server, tmp_path, capsys):
    server = fake_server(responder=_responder)
    run = _fake_run(server, tmp_path, capsys, "zero-shot,cot+conf,sc3,probe:position", "model-a")
    report = run.report_path
    assert report.exists()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert dom.count('<figure class="plot">') >= 5  # 2 pareto + reliability + selective + position
    assert len(re.findall(r"<script", dom)) == 0
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,4000", report.as_uri()],
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


@pytest.mark.parametrize(
    "plot",
    [
        {},
        {"kind": "pie", "series": "nope"},
        {"series": [{"points": [[1, 1]]}], "x_log": True, "x_range": [0, 10]},
        {"series": [{"points": [[5, 5], [5, 5]]}], "y_range": ["a", "b"]},
        {"series": [{"points": [[1e308, -1e308], [None, 1], [1, 2, 3]], "labels": "x", "intervals": [[1]]}]},
        {"kind": "bar", "series": [{"points": [[-1, -2]]}], "frontier": True, "reference": "diagonal"},
    ],
)
def test_malformed_plot_specs_never_break_the_report(plot):
    svg = svg_plot(plot)
    # drawn whole, or left out when nothing in it can be drawn
    assert svg == "" or (svg.startswith('<figure class="plot">') and svg.endswith("</figure>"))
