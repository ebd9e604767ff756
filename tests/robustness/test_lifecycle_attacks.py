"""Real ``medevals run`` processes attacking one runs folder: two identical commands at once, and
Ctrl-C / SIGTERM / SIGHUP mid-run. (In-process versions: ``tests/runs/test_run_lifecycle.py``.)
"""

from __future__ import annotations

import json
import os
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
SLOW = 2.0  # seconds per reply while a race is set up


def _cmd(server, spec: Path, runs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "medevals", "run", "-m", "openai:fake", "--base-url", server.base_url,
            "-b", str(spec), "-c", "2", "--no-cache", "--no-report", "--quiet", "--runs-dir", str(runs),
            *extra]  # fmt: skip


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    return env


def _folders(runs: Path) -> list[RunFolder]:
    return [RunFolder(p) for p in sorted(runs.iterdir()) if p.is_dir()]


def _bodies(requests: list[dict]) -> list[str]:
    return [json.dumps(r["body"], sort_keys=True) for r in requests]


def _wait_for_requests(server, n: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while len(server.requests) < n and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before the attack"


@pytest.mark.slow
def test_two_identical_commands_never_share_a_folder(fake_server, tmp_path):
    """Started together: one runs, the other names it and exits non-zero. Today's failure mode
    (both appending to one folder: duplicate samples and paid calls, both 'complete') is gone."""
    n = 60
    # Replies are slow until one process has exited, so the other cannot finish before the
    # second has looked, however loaded the machine; then fast.
    server = fake_server(responder=mcq_by_item_number, latency_s=SLOW)
    spec = write_bench(tmp_path / "bench", n)
    runs = tmp_path / "runs"
    procs = [
        subprocess.Popen(_cmd(server, spec, runs), env=_env(), stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    deadline = time.time() + 60
    while all(p.poll() is None for p in procs) and time.time() < deadline:
        time.sleep(0.01)
    server.latency_s = 0.01
    results = [(p.wait(120), p.stderr.read(), p.pid) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    (winner,) = [pid for code, _, pid in results if code == 0]
    (refused,) = [err for code, err, _ in results if code == 2]
    assert len(refused.strip().splitlines()) == 1, refused
    assert f"is in use by another medevals process (pid {winner} on " in refused and "--new" in refused
    (folder,) = _folders(runs)
    assert len(server.requests) == n == len(set(_bodies(server.requests)))
    assert len(folder.samples_path.read_text(encoding="utf-8").splitlines()) == n
    assert folder.read_manifest().status == "complete"

    # A second identical command during a run: refused; with --new, a folder of its own.
    server.requests.clear()
    server.latency_s = SLOW
    first = subprocess.Popen(_cmd(server, spec, runs, "--new"), env=_env())
    _wait_for_requests(server, 1, first)
    busy = subprocess.run(_cmd(server, spec, runs), env=_env(), capture_output=True, text=True, timeout=60)
    server.latency_s = 0.01
    assert busy.returncode == 2 and f"(pid {first.pid} on " in busy.stderr, busy.stderr
    own = subprocess.run(_cmd(server, spec, runs, "--new"), env=_env(), timeout=120)
    assert own.returncode == 0 and first.wait(120) == 0
    assert len(_folders(runs)) == 3 and len(server.requests) == 2 * n


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signals_mid_run_save_everything_and_the_same_command_resumes(fake_server, tmp_path, sig):
    n = 80
    server = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    spec = write_bench(tmp_path / "bench", n)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_cmd(server, spec, runs), env=_env(), stderr=subprocess.PIPE, text=True)
    _wait_for_requests(server, 10, proc)
    proc.send_signal(sig)
    code, err = proc.wait(30), proc.stderr.read()
    (folder,) = _folders(runs)
    saved = len(list(folder.iter_samples()))
    assert code == 128 + sig, err
    assert err.strip() == (
        f"interrupted ({sig.name}): {saved} of {n} samples saved in {folder.path}, "
        "rerun the same command to resume"
    ), err
    assert folder.read_manifest().status == "interrupted" and 0 < saved < n
    first = len(server.requests)
    subprocess.run(_cmd(server, spec, runs), env=_env(), check=True, timeout=120)
    assert [f.path for f in _folders(runs)] == [folder.path]
    assert folder.read_manifest().status == "complete"
    second = _bodies(server.requests[first:])
    assert len(second) <= n - saved + 2  # only the unfinished units, plus the (-c 2) calls in flight
    assert len(set(_bodies(server.requests))) == n


@pytest.mark.slow
def test_ctrl_c_on_a_terminal_with_the_progress_bar_live(fake_server, tmp_path):
    """A user's Ctrl-C: the run's stderr is a terminal, so rich's live progress view (and its
    refresh thread) is running when SIGINT arrives. The promised line still ends the output,
    the exit code is 130 and the same command resumes."""
    import pty
    import re
    import threading

    n = 60
    server = fake_server(responder=mcq_by_item_number, latency_s=0.05)
    spec = write_bench(tmp_path / "bench", n)
    runs = tmp_path / "runs"
    cmd = [c for c in _cmd(server, spec, runs) if c != "--quiet"]
    master, slave = pty.openpty()
    env = {**_env(), "TERM": "xterm-256color", "COLUMNS": "160"}
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _wait_for_requests(server, 10, proc)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(30)
    reader.join(10)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert "it/s" in text and "eta " in text, text[-2000:]  # the progress view was live
    (folder,) = _folders(runs)
    saved = len(list(folder.iter_samples()))
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    assert code == 130, text[-2000:]
    assert lines[-1] == (
        f"interrupted (SIGINT): {saved} of {n} samples saved in {folder.path}, rerun the same command to resume"
    ), lines[-3:]
    assert "Traceback" not in text and "Aborted" not in text and 0 < saved < n
    subprocess.run(_cmd(server, spec, runs), env=_env(), check=True, timeout=120)
    assert [f.path for f in _folders(runs)] == [folder.path]
    assert folder.read_manifest().status == "complete"
