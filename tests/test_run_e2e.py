"""End to end through the CLI against a local fake OpenAI-compatible server: run, rescore, report, resume."""

import asyncio
import json

import pytest
from clihelp import fake_run_args, only_run, run_cli, run_fake, run_ok
from fake_openai import answer_letter_from_target

from medevals.benchmarks import base, registry
from medevals.evaluate import RunConfig, execute, prepare


def _demo_targets(n_correct: int) -> dict[str, str]:
    """Answer the first n_correct demo questions right and the rest wrong."""
    items = base.load(registry.get("demo")).items
    out = {}
    for i, it in enumerate(items):
        wrong = next(k for k in it.choices if k != it.target)
        out[it.input] = it.target if i < n_correct else wrong
    return out


def test_run_writes_a_complete_run_folder(fake_server, tmp_path, capsys):
    server = fake_server(responder=answer_letter_from_target(_demo_targets(30)))
    code, out, err, folder = run_fake(
        server, tmp_path, capsys, "-c", "8", cache=tmp_path / "c.sqlite", report=True
    )
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["demo"]
    assert m["n"] == 40 and m["metrics"]["accuracy"]["value"] == pytest.approx(0.75)
    assert m["metrics"]["accuracy"]["ci_method"] == "wilson"
    assert 0.58 < m["metrics"]["accuracy"]["ci_low"] < 0.75 < m["metrics"]["accuracy"]["ci_high"]
    assert m["n_unparseable"] == 0 and m["usage"]["calls"] == 40
    assert set(m["subsets"]) >= {"cardiology", "pharmacology"}
    manifest = folder.read_manifest()
    assert manifest.status == "complete" and manifest.benchmarks[0].data_hash.startswith("sha256:")
    assert manifest.benchmarks[0].templates["instruction"].startswith("The following")
    assert manifest.model.base_url == server.base_url and manifest.command[:2] == ["medevals", "run"]
    samples = list(folder.iter_samples())
    assert len(samples) == 40
    s = samples[0]
    assert s.calls[0].request["messages"][0]["content"].startswith("The following is a multiple-choice")
    assert s.calls[0].raw["choices"][0]["message"]["content"].startswith("The answer is")
    assert s.score.answer in "ABCD" and s.calls[0].latency_s > 0
    assert not folder.journal_path.exists()  # removed once the run completed
    assert (folder.path / "report.html").exists()
    assert "75.0" in out


def test_unparseable_answers_are_counted_not_guessed(fake_server, tmp_path, capsys):
    server = fake_server(responder=lambda path, body: "A patient like this needs more tests.")
    m = run_ok(server, tmp_path, capsys, "--limit", "10").read_metrics()["benchmarks"]["demo"]
    assert m["n_unparseable"] == 10 and m["metrics"]["accuracy"]["value"] == 0.0 and m["n_scored"] == 10


def test_rescore_needs_no_model(fake_server, tmp_path, capsys):
    server = fake_server(responder=answer_letter_from_target(_demo_targets(20)))
    folder = run_ok(server, tmp_path, capsys, runs=tmp_path / "r")
    before = folder.read_metrics()
    server.stop()
    # Corrupt the stored scores; rescore must rebuild them from the raw responses alone.
    lines = folder.samples_path.read_text().splitlines()
    broken = []
    for ln in lines:
        d = json.loads(ln)
        d["score"]["value"] = 0.0
        broken.append(json.dumps(d))
    folder.samples_path.write_text("\n".join(broken) + "\n")
    code, _out, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, err
    after = folder.read_metrics()
    assert after["benchmarks"]["demo"]["metrics"] == before["benchmarks"]["demo"]["metrics"]
    assert after["rescored_changed"] == 20
    code, _out, err = run_cli(
        ["report", str(folder.path), str(folder.path), "-o", str(tmp_path / "cmp.html")], capsys
    )
    assert code == 0 and (tmp_path / "cmp.html").exists()


def test_resume_repeats_no_finished_call(fake_server, tmp_path):
    """Interrupt after 7 samples, run the same config again without cache: no request is sent twice."""
    server = fake_server(responder=answer_letter_from_target(_demo_targets(25)))

    def cfg():
        return RunConfig(
            model="openai:fake",
            benchmarks=["demo"],
            base_url=server.base_url,
            runs_dir=tmp_path / "runs",
            use_cache=False,
            concurrency=1,
        )

    class Stop(Exception):
        pass

    def stop_after_7(done, total, stats):
        if done == 7:
            raise Stop

    with pytest.raises(Stop):
        asyncio.run(execute(prepare(cfg()), progress=stop_after_7))
    folder = only_run(tmp_path / "runs")
    assert folder.read_manifest().status == "failed"  # an unexpected error; resumable all the same
    assert len(list(folder.iter_samples())) == 7
    assert folder.read_metrics()["benchmarks"]["demo"]["n"] == 7  # partial metrics for the report
    outcome = asyncio.run(execute(prepare(cfg())))
    assert outcome.resumed and outcome.skipped == 7 and outcome.folder.path == folder.path
    bodies = [json.dumps(r["body"], sort_keys=True) for r in server.requests]
    assert len(bodies) == 40 and len(set(bodies)) == 40
    assert outcome.metrics["benchmarks"]["demo"]["metrics"]["accuracy"]["value"] == pytest.approx(25 / 40)
    assert outcome.manifest.status == "complete"


def test_same_command_after_completion_starts_fresh_but_hits_cache(fake_server, tmp_path, capsys):
    server = fake_server()
    args = fake_run_args(server, tmp_path / "runs", "--limit", "5", cache=tmp_path / "c.sqlite")
    assert run_cli(args, capsys)[0] == 0
    assert run_cli(args, capsys)[0] == 0
    assert server.n_requests == 5
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_pubmedqa_without_context_and_few_shot(fake_server, tmp_path, capsys, shared_data):
    server = fake_server(responder=lambda path, body: "yes")
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "--limit",
        "4",
        "--strategy",
        "zero-shot,3shot",
        "--set",
        "context=false",
        "--data-dir",
        str(shared_data),
        benchmark="pubmedqa",
    )
    samples = list(folder.iter_samples())
    assert len(samples) == 8
    few = [s for s in samples if s.variant == "3shot"]
    msgs = few[0].calls[0].request["messages"]
    assert len(msgs) == 7 and all("Context:" not in m["content"] for m in msgs)
    assert "variants" in folder.read_metrics()["benchmarks"]["pubmedqa"]
    assert folder.read_manifest().benchmarks[0].options["fewshot_source"] == "split 'train'"
