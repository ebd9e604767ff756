"""The run folder's life, in process: failed units are retried and make a run ``incomplete``, an
unreachable server says why and resumes, metrics are written before "complete", a live folder
is held by its process, signals stop a run like Ctrl-C, errors after the folder was made leave
no empty folder, folder names cut at a benchmark boundary, a finished suite says so.

(Subprocess attacks: ``tests/robustness/test_lifecycle_attacks.py``.)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from pathlib import Path

import pytest
from clihelp import fake_run_args, run_cli, run_fake, run_folders
from fake_openai import FakeOpenAI, Faults, mcq_by_item_number
from genbench import write_bench

from medevals.errors import Interrupted
from medevals.evaluate import RunConfig, execute, prepare
from medevals.runs.folder import RunFolder, benchmarks_slug, slug

N = 30
#: Seed 8 injects 7 HTTP 500s in the first 30 requests, never two in a row (the run must not
#: abort on consecutive failures here).
FAULTS_SEED = 8


def _spec(tmp_path: Path, n: int = N) -> str:
    return str(write_bench(tmp_path / "bench", n))


def _bodies(requests: list[dict]) -> list[str]:
    return [json.dumps(r["body"], sort_keys=True) for r in requests]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line(err: str, start: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith(start)]
    assert len(lines) == 1, err
    return lines[0]


# --------------------------------------------------------------------------- failed units


def test_failed_units_make_the_run_incomplete_and_the_same_command_retries_them(
    fake_server, tmp_path, capsys
):
    server = fake_server(responder=mcq_by_item_number, faults=Faults(rate_500=0.2), seed=FAULTS_SEED)
    spec = _spec(tmp_path)
    code, _out, err, folder = run_fake(server, tmp_path, capsys, "--max-retries", "0", benchmark=spec)
    failed = [r for r in server.requests if r["fault"]]
    k = len(failed)
    assert 0 < k < N and len(server.requests) == N
    assert code == 1, err
    line = _one_line(err, "incomplete:")
    assert f"incomplete: {k} of {N} samples failed (model call failed: {k})" in line
    assert "first error: model call failed: HTTP 500" in line and "--allow-errors" in line
    assert folder.read_manifest().status == "incomplete"
    m = folder.read_metrics()["benchmarks"]["gen"]
    assert m["n_errors"] == k and m["n_scored"] == N - k

    server.faults = Faults()  # the server recovers; the same command retries exactly the failed units
    n_first = len(server.requests)
    code, _out, err, again = run_fake(server, tmp_path, capsys, "--max-retries", "0", benchmark=spec)
    assert code == 0, err
    assert again.path == folder.path
    assert sorted(_bodies(server.requests[n_first:])) == sorted(_bodies(failed))
    assert folder.read_manifest().status == "complete"
    m = folder.read_metrics()["benchmarks"]["gen"]
    assert m["n"] == N and m["n_errors"] == 0 and m["metrics"]["accuracy"]["value"] == pytest.approx(0.8)
    # The error samples are superseded, not rewritten: N + k lines, the latest one per unit counts.
    assert len(folder.samples_path.read_text(encoding="utf-8").splitlines()) == N + k
    latest = list(folder.iter_samples())
    assert len(latest) == N == len({s.unit_id for s in latest}) and all(s.error is None for s in latest)
    assert sum(s.error is not None for s in folder.iter_samples(all_lines=True)) == k
    # rescore keeps every line and the same numbers
    code, _out, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    assert folder.read_metrics()["benchmarks"]["gen"]["metrics"] == m["metrics"]
    assert len(folder.samples_path.read_text(encoding="utf-8").splitlines()) == N + k


def test_allow_errors_exits_zero_and_every_table_shows_the_errors(fake_server, tmp_path, capsys):
    server = fake_server(responder=mcq_by_item_number, faults=Faults(rate_500=0.2), seed=FAULTS_SEED)
    spec = _spec(tmp_path)
    code, out, err, folder = run_fake(
        server, tmp_path, capsys, "--max-retries", "0", "--allow-errors", benchmark=spec, report=True
    )
    k = sum(1 for r in server.requests if r["fault"])
    assert code == 0, err
    assert "--allow-errors" not in _one_line(err, "incomplete:")
    assert folder.read_manifest().status == "incomplete"
    html = folder.report_path.read_text(encoding="utf-8")
    assert "<b>incomplete</b>" in html and f"<dt>errors</dt><dd>{k} (model call failed: {k})</dd>" in html
    code, out, _ = run_cli(
        ["report", str(folder.path), str(folder.path), "-o", str(tmp_path / "c.html")], capsys
    )
    assert code == 0, out
    from rich.console import Console

    from medevals.report.table import compare_table

    wide = Console(width=250, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    wide.print(compare_table([("a", folder.read_metrics()), ("b", folder.read_metrics())]))
    assert wide.export_text().count(f"({k} errors)") == 2
    code, out, _ = run_cli(["leaderboard", str(tmp_path / "runs")], capsys)
    assert code == 0 and "errors" in out
    from medevals.runs.index import build_index, leaderboard

    (row,) = leaderboard(build_index([tmp_path / "runs"]))
    assert row[7] == k and row[6] == N - k  # n_errors beside n_scored


# --------------------------------------------------------------------------- unreachable server


def test_unreachable_server_says_why_keeps_the_folder_and_the_same_command_resumes(tmp_path, capsys):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    spec = _spec(tmp_path, 20)
    # Fewer items than the consecutive-failure limit: every unit fails for good.
    small = (tmp_path / "small", ("--max-retries", "0", "--limit", "3"))
    code, _out, err, folder = run_fake(url, tmp_path, capsys, *small[1], benchmark=spec, runs=small[0])
    assert code == 1
    assert "connection error" in _one_line(err, "incomplete: 3 of 3 samples failed")
    assert folder.read_manifest().status == "incomplete"
    # More items: the run stops after 5 failures in a row, exit 3, resumable.
    big = (tmp_path / "big", ("--max-retries", "0", "-c", "1"))
    code, _out, err, big_folder = run_fake(url, tmp_path, capsys, *big[1], benchmark=spec, runs=big[0])
    assert code == 3
    line = _one_line(err, "error:")
    assert "failed 5 calls in a row" in line and "connection error" in line
    assert f"0 of 20 samples saved in {big_folder.path}, rerun the same command to resume" in line
    assert big_folder.read_manifest().status == "interrupted"

    server = FakeOpenAI(responder=mcq_by_item_number).start_on(port)
    try:
        for (runs, args), before, n in ((small, folder, 3), (big, big_folder, 20)):
            code, _out, err, again = run_fake(url, tmp_path, capsys, *args, benchmark=spec, runs=runs)
            assert code == 0, err
            assert again.path == before.path and again.read_manifest().status == "complete"
            assert again.read_metrics()["benchmarks"]["gen"]["n_scored"] == n
    finally:
        server.stop()


# --------------------------------------------------------------------------- metrics, then "complete"


def _cfg(server, tmp_path: Path, spec: str, **kw) -> RunConfig:
    return RunConfig(
        model="openai:fake",
        benchmarks=[spec],
        base_url=server.base_url,
        runs_dir=tmp_path / "runs",
        use_cache=False,
        **kw,
    )


def test_metrics_are_written_before_the_run_says_complete(fake_server, tmp_path, monkeypatch):
    server = fake_server(responder=mcq_by_item_number)
    events: list[tuple[str, str | None]] = []
    write_manifest, write_metrics = RunFolder.write_manifest, RunFolder.write_metrics

    def log_manifest(self, manifest):
        events.append(("manifest", manifest.status))
        write_manifest(self, manifest)

    def log_metrics(self, metrics):
        events.append(("metrics", None))
        write_metrics(self, metrics)

    monkeypatch.setattr(RunFolder, "write_manifest", log_manifest)
    monkeypatch.setattr(RunFolder, "write_metrics", log_metrics)
    asyncio.run(execute(prepare(_cfg(server, tmp_path, _spec(tmp_path, 5)))))
    assert events[-2:] == [("metrics", None), ("manifest", "complete")], events


@pytest.mark.parametrize(
    "state", ["complete, no metrics", "complete, stale metrics", "metrics, still running"]
)
def test_a_run_killed_around_its_last_writes_is_rescored_not_rerun(fake_server, tmp_path, capsys, state):
    """The 0.2-0.4 s between "complete" and metrics.json: the next identical command finishes the
    same folder from its samples, with no model call."""
    server = fake_server(responder=mcq_by_item_number)
    spec = _spec(tmp_path, 10)
    folder = run_fake(server, tmp_path, capsys, benchmark=spec)[3]
    good = folder.read_metrics()
    if state == "complete, no metrics":
        folder.metrics_path.unlink()
    elif state == "complete, stale metrics":
        folder.write_metrics({**good, "samples_bytes": 1})
    else:
        m = folder.read_manifest()
        m.status = "running"
        folder.write_manifest(m)
    n = len(server.requests)
    code, _out, err, again = run_fake(server, tmp_path, capsys, benchmark=spec)
    assert code == 0, err
    assert again.path == folder.path and len(server.requests) == n
    assert folder.read_manifest().status == "complete"
    assert folder.read_metrics()["benchmarks"] == good["benchmarks"]
    # and a complete folder with current metrics is left alone: the same command starts afresh
    code, _out, err = run_cli(fake_run_args(server, tmp_path / "runs", benchmark=spec), capsys)
    assert code == 0 and len(run_folders(tmp_path / "runs")) == 2


# --------------------------------------------------------------------------- one live process per folder


def test_a_live_run_holds_its_folder(fake_server, tmp_path, capsys):
    server = fake_server(responder=mcq_by_item_number, faults=Faults(rate_500=0.2), seed=FAULTS_SEED)
    spec = _spec(tmp_path)
    args = ("--max-retries", "0")
    folder = run_fake(server, tmp_path, capsys, *args, benchmark=spec)[3]
    assert folder.read_manifest().status == "incomplete"  # resumable
    server.faults = Faults()
    live = RunFolder(folder.path)
    live.lock(["medevals", "run", "(the other process)"])  # as a live identical run holds it
    try:
        n = len(server.requests)
        code, _out, err, _ = run_fake(server, tmp_path, capsys, *args, benchmark=spec)
        line = _one_line(err, "error:")
        assert code == 2
        assert (
            f"{folder.path} is in use by another medevals process (pid {os.getpid()} on {socket.gethostname()}, started "
            in line
        )
        assert "--new" in line
        assert len(server.requests) == n and len(run_folders(tmp_path / "runs")) == 1
        code, _out, err = run_cli(["rescore", str(folder.path)], capsys)
        assert code == 2 and "is in use by another medevals process" in err and "after that run ends" in err
        # report only reads: on a live folder (here with no metrics.json yet) it shows what is finished
        scored = folder.read_metrics()["benchmarks"]["gen"]["n_scored"]
        folder.metrics_path.unlink()
        code, out, err = run_cli(["report", str(folder.path), "-o", str(tmp_path / "r.html")], capsys)
        assert code == 0, err
        assert f"{scored}/{N}" in out and not folder.metrics_path.exists()
        assert f"<dt>n scored</dt><dd>{scored}/{N}</dd>" in (tmp_path / "r.html").read_text(encoding="utf-8")
        code, _out, err = run_cli(
            fake_run_args(server, tmp_path / "runs", *args, "--new", benchmark=spec), capsys
        )
        assert code == 0, err
        assert len(run_folders(tmp_path / "runs")) == 2 and len(server.requests) == n + N
    finally:
        live.unlock()
    code, _out, err = run_cli(fake_run_args(server, tmp_path / "runs", *args, benchmark=spec), capsys)
    assert code == 0, err
    assert folder.read_manifest().status == "complete"  # the same command resumed the freed folder


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_sigterm_and_sighup_stop_a_run_like_ctrl_c(fake_server, tmp_path, sig):
    server = fake_server(responder=mcq_by_item_number)
    spec = _spec(tmp_path, 20)

    def send_signal(done: int, total: int, stats: object) -> None:
        if done == 7:
            os.kill(os.getpid(), sig)

    with pytest.raises(Interrupted) as info:
        asyncio.run(execute(prepare(_cfg(server, tmp_path, spec, concurrency=1)), progress=send_signal))
    (folder,) = [RunFolder(p) for p in run_folders(tmp_path / "runs")]
    saved = len(list(folder.iter_samples()))
    assert info.value.exit_code == 128 + sig
    assert str(info.value) == (
        f"interrupted ({sig.name}): {saved} of 20 samples saved in {folder.path}, rerun the same command to resume"
    )
    assert folder.read_manifest().status == "interrupted" and 7 <= saved < 20
    assert signal.getsignal(signal.SIGTERM) is not None  # handlers restored
    outcome = asyncio.run(execute(prepare(_cfg(server, tmp_path, spec))))
    assert outcome.folder.path == folder.path and outcome.manifest.status == "complete"
    bodies = _bodies(server.requests)
    assert len(set(bodies)) == 20 and len(bodies) <= 21  # at most the one request in flight is redone


def test_ctrl_c_through_the_cli_says_how_much_is_saved(fake_server, tmp_path, capsys):
    """The installed typer turns a bare KeyboardInterrupt into "Aborted!" and exit 1; the run must
    print its own line and exit 130."""
    seen = {"n": 0}

    def respond_then_ctrl_c(path: str, body: dict) -> str:
        seen["n"] += 1
        if seen["n"] == 8:
            os.kill(os.getpid(), signal.SIGINT)
        return mcq_by_item_number(path, body)

    server = fake_server(responder=respond_then_ctrl_c)
    code, _out, err, folder = run_fake(server, tmp_path, capsys, "-c", "1", benchmark=_spec(tmp_path, 20))
    saved = len(list(folder.iter_samples()))
    assert code == 130, err
    assert _one_line(err, "interrupted") == (
        f"interrupted (SIGINT): {saved} of 20 samples saved in {folder.path}, rerun the same command to resume"
    )
    assert "Aborted" not in err and folder.read_manifest().status == "interrupted"


# --------------------------------------------------------------------------- folders


def test_an_error_after_the_folder_was_made_leaves_no_folder(fake_server, tmp_path, capsys):
    """kNN few-shot embeds its pool in setup, after the folder exists: an unreachable embedder fails there."""
    server = fake_server(responder=mcq_by_item_number)
    dead = f"openai:x@http://127.0.0.1:{_free_port()}/v1"
    code, _out, err, folder = run_fake(
        server, tmp_path, capsys, "--strategy", "knn3", "--embedder", dead, "--max-retries", "0"
    )
    assert code == 2 and "nothing was saved (no run folder kept)" in err, err
    assert folder is None and run_folders(tmp_path / "runs") == []


def test_multi_benchmark_folder_names_cut_at_a_benchmark_boundary():
    names = ["medagentsbench", "medqa-interactive", "mediq-imedqa", "pubmedqa", "medcalc"]
    assert benchmarks_slug(names, 40) == "medagentsbench+medqa-interactive+3"
    assert benchmarks_slug(names[:2], 40) == "medagentsbench+medqa-interactive"
    assert benchmarks_slug(["a" * 50, "b"], 40) == "a" * 38 + "+1"
    # one long name (or a model's) is cut at a word boundary too
    assert benchmarks_slug(["medagentbench-very-long-benchmark-name-here"], 40) == (
        "medagentbench-very-long-benchmark-name"
    )
    assert benchmarks_slug(["medagentbench-very-long-benchmark-name-here", "b"], 40) == (
        "medagentbench-very-long-benchmark-name+b"
    )
    assert slug("Meta-Llama-3.1-70B-Instruct-Turbo-AWQ", 30) == "Meta-Llama-3.1-70B-Instruct"
    for k in range(1, len(names) + 1):  # every part is a whole name, or the count of those left out
        text = benchmarks_slug(names[:k], 40)
        assert len(text) <= 40 and all(p in names or p.isdigit() for p in text.split("+")), text


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "tiny"\n[defaults]\nlimit = 4\n[[benchmark]]\nname = "demo"\n'
        '[[benchmark]]\nname = "demo"\nlimit = 2\noptions = { strategy = "cot" }\n',
        encoding="utf-8",
    )
    return suite


def test_rerunning_a_finished_suite_says_it_is_complete(fake_server, tmp_path, capsys):
    server = fake_server()
    runs = tmp_path / "runs"
    args = ["suite", "run", str(_suite(tmp_path)), "-m", "openai:fake", "--base-url", server.base_url]
    args += ["--runs-dir", str(runs), "--no-cache", "-q"]
    code, _out, err = run_cli(args, capsys)
    assert code == 0, err
    folders = run_folders(runs)
    assert len(folders) == 2 and server.n_requests == 6
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "suite tiny is already complete (2 run folders); nothing was run" in " ".join(out.split())
    assert run_folders(runs) == folders and server.n_requests == 6
    assert all(f"runfolder:{f}" in "".join(out.split()) for f in folders)  # (rich wraps long paths)
    code, _out, err = run_cli([*args, "--new"], capsys)
    assert code == 0, err
    assert len(run_folders(runs)) == 4 and server.n_requests == 12
