"""``--executor ray``: units on Ray workers, the driver the only writer; results identical to local.

A real local Ray cluster (2 CPUs, loopback) and the fake OpenAI server with deterministic answers.
"""

from __future__ import annotations

import json

import pytest
from clihelp import run_cli, run_fake, run_ok
from fake_openai import Faults, mcq_by_item_number
from genbench import write_bench

#: Fields of a sample (and of its calls) that measure the execution, not the result.
_TIMING = ("started_at", "duration_s")
_CALL_TIMING = ("latency_s",)


def _samples(folder) -> dict[str, dict]:
    out = {}
    for line in folder.samples_path.read_text().splitlines():
        s = json.loads(line)
        for k in _TIMING:
            s.pop(k)
        for c in s["calls"]:
            for k in _CALL_TIMING:
                c.pop(k)
        out[s["unit_id"]] = s
    return out


RAY = ("--executor", "ray", "--ray-workers", "2", "--ray-num-cpus", "0.5")
STRATEGY = ("--strategy", "zero-shot,cot", "--price-in", "0.37", "--price-out", "1.91")


@pytest.mark.slow
def test_a_ray_run_writes_what_a_local_run_writes(ray_cluster, fake_server, tmp_path, capsys):
    spec = write_bench(tmp_path / "bench", 40)
    a = fake_server(responder=mcq_by_item_number)
    b = fake_server(responder=mcq_by_item_number, faults=Faults(rate_slow=0.2, slow_s=0.05), seed=1)
    local = run_ok(a, tmp_path, capsys, *STRATEGY, "-c", "4", benchmark=str(spec), runs=tmp_path / "local")
    ray = run_ok(b, tmp_path, capsys, *STRATEGY, "-c", "4", *RAY, benchmark=str(spec), runs=tmp_path / "ray")
    assert local.metrics_path.read_bytes() == ray.metrics_path.read_bytes()
    assert _samples(local) == _samples(ray)
    assert len(b.requests) == len(a.requests) == 80  # each call once: no duplicate work on two workers
    ml, mr = local.read_manifest(), ray.read_manifest()
    assert mr.status == "complete" and not ray.journal_path.exists()
    for k in ("calls", "sent", "cache_hits", "prompt_tokens", "completion_tokens", "cost_usd"):
        assert mr.stats[k] == pytest.approx(ml.stats[k]), k  # the workers' figures reach the manifest
    assert ray.read_metrics()["benchmarks"]["gen"]["latency_s"]["n"] == 80


@pytest.mark.slow
def test_ray_workers_read_the_drivers_cache_and_the_driver_writes_it(
    ray_cluster, fake_server, tmp_path, capsys
):
    spec = write_bench(tmp_path / "bench", 12)
    server = fake_server(responder=mcq_by_item_number)
    cache = tmp_path / "cache.sqlite"
    first = run_ok(server, tmp_path, capsys, *RAY, benchmark=str(spec), cache=cache, runs=tmp_path / "r1")
    assert len(server.requests) == 12 and first.read_manifest().stats["cache_hits"] == 0
    again = run_ok(server, tmp_path, capsys, *RAY, benchmark=str(spec), cache=cache, runs=tmp_path / "r2")
    assert len(server.requests) == 12  # every answer came from the cache the driver wrote
    assert again.read_manifest().stats["cache_hits"] == 12
    local = run_ok(server, tmp_path, capsys, benchmark=str(spec), cache=cache, runs=tmp_path / "r3")
    assert len(server.requests) == 12 and local.read_manifest().stats["cache_hits"] == 12


def _interrupted_then_resumed(fake_server, tmp_path, capsys, name: str, *rerun: str):
    """Self-consistency units make three calls each; the first run's server fails every call after
    the 7th (mid-unit), so 4 units fail; the rerun (``rerun`` options) retries them."""
    spec = write_bench(tmp_path / "bench", 6)
    server = fake_server(responder=mcq_by_item_number)
    answered = {"n": 0}

    def pick(rng):
        answered["n"] += 1
        return "500" if answered["n"] > 7 else None

    server.faults.pick = pick
    args = ("--strategy", "sc3", "--temperature", "0.7", "--max-retries", "0", "-c", "1")
    runs = tmp_path / name
    code, _out, err, folder = run_fake(server, tmp_path, capsys, *args, benchmark=str(spec), runs=runs)
    assert code == 1 and folder is not None, err  # incomplete: 4 units failed
    assert len(folder.journal_path.read_text().splitlines()) == 7
    server.faults.pick = lambda rng: None
    server.requests.clear()
    again = run_ok(server, tmp_path, capsys, *args, *rerun, benchmark=str(spec), runs=runs)
    assert again.path == folder.path and again.read_manifest().status == "complete"
    return again, len(server.requests)


@pytest.mark.slow
def test_a_ray_run_resumes_an_interrupted_run_without_repeating_a_call(
    ray_cluster, fake_server, tmp_path, capsys
):
    """The Ray rerun ships each unfinished unit with its journalled calls: none is sent again, and
    the folder ends as the same rerun made locally leaves it."""
    ray, sent = _interrupted_then_resumed(fake_server, tmp_path, capsys, "ray", *RAY)
    assert sent == 6 * 3 - 7  # 6 units x 3 calls; 2 units were finished, 1 call of the third replayed
    assert sum(c["replayed"] for s in _samples(ray).values() for c in s["calls"]) == 1
    local, sent_local = _interrupted_then_resumed(fake_server, tmp_path, capsys, "local")
    assert sent_local == sent
    assert local.metrics_path.read_bytes() == ray.metrics_path.read_bytes()
    assert _samples(local) == _samples(ray)


def test_without_ray_the_flag_says_how_to_get_it(monkeypatch, fake_server, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    spec = write_bench(tmp_path / "bench", 3)
    code, _out, err, folder = run_fake(
        fake_server(), tmp_path, capsys, "--executor", "ray", benchmark=str(spec)
    )
    assert code == 2 and folder is None
    assert "pip install -e '.[ray]'" in err and len(err.strip().splitlines()) == 1


def test_ray_options_need_the_ray_executor(tmp_path, capsys):
    code, _out, err = run_cli(["run", "-m", "openai:x", "-b", "demo", "--ray-workers", "2"], capsys)
    assert code == 2 and "--ray-workers needs --executor ray" in err


def _worker_pids() -> list[int]:
    """PIDs of this machine's Ray worker actors (Ray titles them ``ray::WorkerImpl...``)."""
    import os
    from pathlib import Path

    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"ray::WorkerImpl") and int(proc.name) != os.getpid():
            pids.append(int(proc.name))
    return pids


@pytest.mark.slow
def test_a_worker_that_dies_mid_run_hands_its_units_to_the_other(ray_cluster, fake_server, tmp_path, capsys):
    import os
    import signal
    import threading

    spec = write_bench(tmp_path / "bench", 60)
    state = {"n": 0, "killed": None}

    def respond(path, body):
        state["n"] += 1
        if state["n"] == 15:
            pids = _worker_pids()
            state["killed"] = pids[0] if pids else None
            if pids:
                threading.Thread(target=os.kill, args=(pids[0], signal.SIGKILL), daemon=True).start()
        return mcq_by_item_number(path, body)

    server = fake_server(responder=respond, latency_s=0.02)
    code, _out, err, folder = run_fake(server, tmp_path, capsys, "-c", "4", *RAY, benchmark=str(spec))
    assert state["killed"] is not None, "no Ray worker process found to kill"
    assert code == 0, err
    assert "died" in err
    lines = folder.samples_path.read_text().splitlines()
    assert len(lines) == 60 and len({json.loads(x)["unit_id"] for x in lines}) == 60
    local = run_ok(
        fake_server(responder=mcq_by_item_number), tmp_path, capsys, benchmark=str(spec), runs=tmp_path / "l"
    )
    assert local.metrics_path.read_bytes() == folder.metrics_path.read_bytes()


@pytest.mark.slow
def test_replicas_on_ray_workers_are_balanced_and_their_stats_merged(
    ray_cluster, fake_server, tmp_path, capsys
):
    spec = write_bench(tmp_path / "bench", 40)
    a = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    b = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    folder = run_ok(f"{a.base_url},{b.base_url}", tmp_path, capsys, "-c", "4", *RAY, benchmark=str(spec))
    stats = folder.read_manifest().stats["replicas"]["candidate"]
    assert stats[a.base_url]["ok"] == len(a.requests) and stats[b.base_url]["ok"] == len(b.requests)
    assert len(a.requests) + len(b.requests) == 40 and min(len(a.requests), len(b.requests)) >= 10
    assert stats[a.base_url]["latency_s"]["n"] == len(a.requests)  # every worker's latencies, merged
