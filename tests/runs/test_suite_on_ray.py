"""A suite of 3 models x 4 benchmarks on a local Ray cluster gives what the same suite gives locally.

Three fake OpenAI servers answer with different accuracies (every item right, 4 in 5, always "A");
four generated benchmarks. Every (model x benchmark) run folder's metrics.json must be byte-identical
between ``suite run`` with the local executor and with ``--executor ray``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from clihelp import run_cli
from fake_openai import constant, mcq_by_item_number
from genbench import write_bench

SIZES = {"gen-a": 20, "gen-b": 40, "gen-c": 20, "gen-d": 60}  # multiples of 20: exact 80% and 25%


def _always_right(path, body):
    text = json.dumps(body)
    i = int(m.group(1)) if (m := re.search(r"item (\d+)", text)) else 0
    return f"ANSWER: {'ABCD'[i % 4]}"


def _suite(tmp_path: Path, servers: dict[str, str]) -> Path:
    lines = ['name = "three-by-four"']
    for name, n in SIZES.items():
        spec = write_bench(tmp_path / name, n, name=name)
        lines += ["[[benchmark]]", f'name = "{spec}"']
    for model, url in servers.items():
        lines += ["[[model]]", f'spec = "openai:{model}"', f'base_url = "{url}"', "concurrency = 4"]
    path = tmp_path / "suite.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _metrics_by_run(runs: Path) -> dict[tuple[str, str], bytes]:
    out = {}
    for folder in sorted(p for p in runs.iterdir() if p.is_dir()):
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == "complete", folder
        key = (manifest["model"]["spec"], manifest["benchmarks"][0]["name"])
        assert key not in out
        out[key] = (folder / "metrics.json").read_bytes()
    return out


@pytest.mark.slow
def test_three_models_by_four_benchmarks_on_ray_equal_the_local_suite(
    ray_cluster, fake_server, tmp_path, capsys
):
    servers = {
        "right": fake_server(responder=_always_right, latency_s=0.01),
        "mostly": fake_server(responder=mcq_by_item_number, latency_s=0.01),
        "letter-a": fake_server(responder=constant("ANSWER: A"), latency_s=0.01),
    }
    suite = _suite(tmp_path, {k: s.base_url for k, s in servers.items()})
    common = ["suite", "run", str(suite), "--no-cache"]
    code, _out, err = run_cli([*common, "--runs-dir", str(tmp_path / "local")], capsys)
    assert code == 0, err
    sent_local = {k: len(s.requests) for k, s in servers.items()}
    assert sent_local == {k: sum(SIZES.values()) for k in servers}
    ray = ["--executor", "ray", "--ray-num-cpus", "0.5"]
    code, out, err = run_cli([*common, "--runs-dir", str(tmp_path / "ray"), *ray], capsys)
    assert code == 0, err
    assert {k: len(s.requests) for k, s in servers.items()} == {k: 2 * n for k, n in sent_local.items()}

    local, on_ray = _metrics_by_run(tmp_path / "local"), _metrics_by_run(tmp_path / "ray")
    assert len(local) == 12 and local.keys() == on_ray.keys()
    for key in local:
        assert local[key] == on_ray[key], key
    acc = {k: json.loads(v)["benchmarks"][k[1]]["metrics"]["accuracy"]["value"] for k, v in on_ray.items()}
    assert {acc[("openai:right", b)] for b in SIZES} == {1.0}
    assert {acc[("openai:mostly", b)] for b in SIZES} == {0.8}
    assert {acc[("openai:letter-a", b)] for b in SIZES} == {0.25}
    # one line per run as it ends (no terminal here), and the comparison with a column per model
    assert sum(": complete" in line for line in err.splitlines()) == 12
    assert all(f"openai:{m}" in out for m in servers)
    assert (tmp_path / "ray" / "suite-three-by-four.html").exists()

    # the same command again: every run is complete, nothing is asked
    code, out, err = run_cli([*common, "--runs-dir", str(tmp_path / "ray"), *ray], capsys)
    assert code == 0 and "already complete (12 run folders)" in out, err
    assert {k: len(s.requests) for k, s in servers.items()} == {k: 2 * n for k, n in sent_local.items()}
