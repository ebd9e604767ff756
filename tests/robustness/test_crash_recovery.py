"""``kill -9`` of a real ``medevals run`` at a random point, then the same command (or ``--resume``).

What "no repeated model call" means precisely: a request whose response the killed run had
recorded (in ``journal.jsonl`` or ``samples.jsonl``) is never sent again. A request that was
in flight at the kill, its response never received, is sent again; there are at most
``--concurrency`` of those. The finished run's samples equal an uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai import mcq_by_item_number
from genbench import write_bench

from medevals.runs.folder import RunFolder

ROOT = Path(__file__).resolve().parents[2]
N = 150
CONCURRENCY = 4


def _body(b: dict) -> str:
    return json.dumps({k: v for k, v in b.items() if k != "model"}, sort_keys=True)


def _cmd(server, spec: Path, runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "medevals",
        "run",
        "-m",
        "openai:fake",
        "--base-url",
        server.base_url,
        "-b",
        str(spec),
        "-c",
        str(CONCURRENCY),
        "--no-cache",
        "--no-report",
        "--quiet",
        "--runs-dir",
        str(runs),
        *extra,
    ]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    return env


def _comparable(folder: RunFolder) -> dict[str, dict]:
    """Per unit: what the model was asked, what it answered, and the score (not timings)."""
    out = {}
    for s in folder.iter_samples():
        assert s.unit_id not in out, f"unit {s.unit_id} written twice"
        out[s.unit_id] = {
            "output": s.output,
            "score": s.score.model_dump() if s.score else None,
            "error": s.error,
            "calls": [(c.key, c.request, c.raw, c.error) for c in s.calls],
        }
    return out


def _recorded_bodies(folder: RunFolder) -> set[str]:
    """Requests whose responses the killed run had written down (journal or samples)."""
    done = set()
    if folder.journal_path.exists():
        for line in folder.journal_path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.endswith("\n"):
                rec = json.loads(line)
                if rec.get("raw") is not None:
                    done.add(_body(rec["request"]))
    for s in folder.iter_sample_dicts():
        for c in s["calls"]:
            if c.get("raw") is not None:
                done.add(_body(c["request"]))
    return done


def _failed_bodies(folder: RunFolder) -> set[str]:
    """Requests whose call failed for good (error samples): the next run must send them again."""
    return {
        _body(c["request"])
        for s in folder.iter_sample_dicts(all_lines=True)
        for c in s["calls"]
        if c.get("error")
    }


@pytest.mark.slow
@pytest.mark.parametrize("how", ["same command", "--resume", "same command, a unit failed"])
def test_kill_9_then_rerun_repeats_no_recorded_call(fake_server, tmp_path, how):
    spec = write_bench(tmp_path / "bench", N)
    server = fake_server(responder=mcq_by_item_number, latency_s=0.01)

    subprocess.run(_cmd(server, spec, tmp_path / "ref"), env=_env(), check=True, timeout=120)
    reference = _comparable(RunFolder(next((tmp_path / "ref").iterdir())))
    assert len(reference) == N
    server.requests.clear()

    fails = how.endswith("failed")
    if fails:  # item 3 is refused (HTTP 401, not retried) until the server is fixed
        server.echo_auth_marker = "item 3:"
    kill_at = random.randint(12 if fails else 5, N - 20)  # requests seen by the server before the kill
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_cmd(server, spec, runs), env=_env())
    deadline = time.time() + 60
    while len(server.requests) < kill_at and proc.poll() is None and time.time() < deadline:
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL, f"run ended before the kill (kill_at={kill_at})"
    server.echo_auth_marker = None
    first = [_body(r["body"]) for r in server.requests]
    (folder,) = [RunFolder(p) for p in runs.iterdir() if p.is_dir()]
    recorded = _recorded_bodies(folder)
    failed = _failed_bodies(folder)
    assert bool(failed) == fails, (kill_at, failed)
    n_before = len(list(folder.iter_samples()))
    assert n_before < N and folder.read_manifest().status == "running", kill_at
    # kill -9 leaves no stale lock: the file still names the dead holder, nobody holds it
    assert json.loads(folder.lock_path.read_text())["pid"] == proc.pid
    assert folder.live_holder() is None

    extra = ("--resume", str(folder.path)) if how == "--resume" else ()
    subprocess.run(_cmd(server, spec, runs, *extra), env=_env(), check=True, timeout=120)
    second = [_body(r["body"]) for r in server.requests[len(first) :]]

    assert [p.name for p in runs.iterdir() if p.is_dir()] == [folder.path.name]  # resumed, not a new run
    assert not set(second) & recorded, f"kill_at={kill_at}: a recorded call was sent again"
    assert failed <= set(second), "a unit that failed was not retried"
    assert len(second) == len(set(second))
    in_flight_at_kill = (set(second) & set(first)) - failed
    assert in_flight_at_kill <= set(first) - recorded
    assert len(in_flight_at_kill) <= CONCURRENCY
    assert len(set(first) | set(second)) == N
    assert folder.read_manifest().status == "complete"
    assert _comparable(folder) == reference, f"kill_at={kill_at}"


def _descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (from /proc): a killed driver's Ray helpers outlive it."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


@pytest.mark.slow
def test_kill_9_of_a_ray_driver_then_rerun_repeats_no_recorded_call(fake_server, tmp_path):
    """The same guarantee with ``--executor ray``: the driver writes journal and samples as the
    workers stream them, so what it recorded before ``kill -9`` is never asked again."""
    pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    spec = write_bench(tmp_path / "bench", N)
    server = fake_server(responder=mcq_by_item_number, latency_s=0.01)
    env = {**_env(), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    ray_args = ("--executor", "ray", "--ray-workers", "2", "--ray-num-cpus", "0.5")
    subprocess.run(_cmd(server, spec, tmp_path / "ref"), env=_env(), check=True, timeout=120)
    reference = _comparable(RunFolder(next((tmp_path / "ref").iterdir())))
    server.requests.clear()

    kill_at = random.randint(20, N - 40)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_cmd(server, spec, runs, *ray_args), env=env)
    helpers: set[int] = set()
    try:
        deadline = time.time() + 240  # starting Ray takes 5-30 s on a loaded machine
        while len(server.requests) < kill_at and proc.poll() is None and time.time() < deadline:
            helpers |= _descendants(proc.pid)
            time.sleep(0.002)
        helpers |= _descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, f"run ended before the kill (kill_at={kill_at})"
    finally:
        time.sleep(1)
        for pid in helpers:  # the Ray processes this test's driver started, by id
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    first = [_body(r["body"]) for r in server.requests]
    (folder,) = [RunFolder(p) for p in runs.iterdir() if p.is_dir()]
    recorded = _recorded_bodies(folder)
    assert len(list(folder.iter_samples())) < N and folder.read_manifest().status == "running"
    assert folder.live_holder() is None

    subprocess.run(_cmd(server, spec, runs, *ray_args), env=env, check=True, timeout=300)
    second = [_body(r["body"]) for r in server.requests[len(first) :]]
    assert [p.name for p in runs.iterdir() if p.is_dir()] == [folder.path.name]
    assert not set(second) & recorded, f"kill_at={kill_at}: a recorded call was sent again"
    assert len(second) == len(set(second))
    assert len(set(first) | set(second)) == N
    assert folder.read_manifest().status == "complete"
    assert _comparable(folder) == reference, f"kill_at={kill_at}"
