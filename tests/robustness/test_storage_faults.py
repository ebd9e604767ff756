"""Storage that fails under a run: the response cache (full, corrupt, locked) and the runs folder's
disk (full). A failing cache costs no answer; a full disk stops the run cleanly (one line,
status ``interrupted``, nothing half-written counts) and a resume after freeing space equals an
uninterrupted run.
"""

from __future__ import annotations

import errno
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import run_fake
from fake_openai import mcq_by_item_number
from genbench import write_bench

import medevals.engine.cache as cache_mod
import medevals.engine.jsonl_append as jsonl_append
from medevals.engine.cache import ResponseCache
from medevals.errors import StorageError
from medevals.runs.folder import RunFolder

ROOT = Path(__file__).resolve().parents[2]
N = 40


def _comparable(folder: RunFolder) -> dict[str, dict]:
    out = {}
    for s in folder.iter_samples(all_lines=True):
        assert s.unit_id not in out, f"unit {s.unit_id} written twice"
        assert s.error is None, s.error
        out[s.unit_id] = {
            "output": s.output,
            "score": s.score.model_dump() if s.score else None,
            "calls": [(c.key, c.request, c.raw) for c in s.calls],
        }
    return out


def _all_lines_whole(path: Path) -> None:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends in a cut line"
    import json

    for line in data.splitlines():
        json.loads(line)


# --------------------------------------------------------------------------- the response cache


class _LockedDB:
    """A connection whose writes fail as SQLite does when another process holds the write lock."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def execute(self, sql: str, *args: object):
        if sql.lstrip().upper().startswith("INSERT"):
            raise sqlite3.OperationalError("database is locked")
        return self._db.execute(sql, *args)

    def close(self) -> None:
        self._db.close()


@pytest.mark.parametrize("fault", ["disk full", "corrupt file", "locked"])
def test_a_failing_cache_is_a_warning_and_every_answer_is_kept(
    fake_server, tmp_path, capsys, monkeypatch, fault
):
    server = fake_server(responder=mcq_by_item_number)
    spec = str(write_bench(tmp_path / "bench", N))
    path = tmp_path / "cache" / "c.sqlite"
    if fault == "corrupt file":
        path.parent.mkdir()
        path.write_bytes(b"not a database" * 100)
    else:
        ResponseCache(path).close()  # a cache file with its table, as after earlier runs
        connect = sqlite3.connect

        def failing_connect(*args, **kw):
            db = connect(*args, **kw)
            if fault == "locked":
                return _LockedDB(db)
            # No page beyond those the file has: the first inserts that need one fail, as on a full disk.
            db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
            return db

        monkeypatch.setattr(cache_mod.sqlite3, "connect", failing_connect)
    code, _out, err, folder = run_fake(server, tmp_path, capsys, benchmark=spec, cache=path)
    assert code == 0, err
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: response cache")]
    assert len(warnings) == 1, err
    assert "the cache is off for the rest of this run" in warnings[0]
    m = folder.read_metrics()["benchmarks"]["gen"]
    assert (
        m["n_scored"] == N and m["n_errors"] == 0 and m["metrics"]["accuracy"]["value"] == pytest.approx(0.8)
    )
    manifest = folder.read_manifest()
    assert manifest.status == "complete" and len(manifest.stats["warnings"]) == 1
    assert len(server.requests) == N


# --------------------------------------------------------------------------- a full disk


def test_a_line_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "x.jsonl"
    out = jsonl_append.LineAppender(path)
    out.append('{"a": 1}\n')
    real_write = os.write

    def short_then_full(fd, data):
        if len(data) > 4:
            return real_write(fd, bytes(data[:4]))  # the disk takes 4 bytes, then is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(jsonl_append.os, "write", short_then_full)
    with pytest.raises(
        StorageError,
        match=r"x.jsonl: cannot write \(No space left on device\); the disk is full: free some space",
    ):
        out.append('{"b": 2222222}\n')
    assert path.read_text() == '{"a": 1}\n'
    monkeypatch.setattr(jsonl_append.os, "write", real_write)
    out.append('{"c": 3}\n')  # space freed: appends go on from a clean line
    assert path.read_text() == '{"a": 1}\n{"c": 3}\n'


def test_full_disk_stops_cleanly_and_the_resume_equals_an_uninterrupted_run(
    fake_server, tmp_path, capsys, monkeypatch
):
    server = fake_server(responder=mcq_by_item_number)
    spec = str(write_bench(tmp_path / "bench", N))
    reference = _comparable(run_fake(server, tmp_path, capsys, benchmark=spec, runs=tmp_path / "ref")[3])

    real_write, limit = os.write, 30_000  # bytes the samples + journal files may hold together
    written = {"n": 0}

    def disk_of(fd, data):
        room = limit - written["n"]
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, bytes(data[:room]))
        written["n"] += n
        return n

    monkeypatch.setattr(jsonl_append.os, "write", disk_of)
    code, _out, err, folder = run_fake(server, tmp_path, capsys, benchmark=spec)
    monkeypatch.setattr(jsonl_append.os, "write", real_write)
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert code == 2 and len(lines) == 1, err
    assert "cannot write (No space left on device); the disk is full: free some space" in lines[0]
    assert "samples saved in" in lines[0] and "rerun the same command to resume" in lines[0]
    assert "Traceback" not in err
    assert folder.read_manifest().status == "interrupted"
    for p in (folder.samples_path, folder.journal_path):
        _all_lines_whole(p)
    saved = len(list(folder.iter_samples()))
    assert 0 < saved < N and f"{saved} of {N} samples saved" in lines[0]

    code, _out, err, again = run_fake(server, tmp_path, capsys, benchmark=spec)  # space freed
    assert code == 0, err
    assert again.path == folder.path and folder.read_manifest().status == "complete"
    assert _comparable(folder) == reference  # no error sample, no unit twice, same answers


@pytest.mark.slow
def test_file_size_limit_in_a_real_process(fake_server, tmp_path):
    """The kernel cuts writes at RLIMIT_FSIZE (EFBIG, a short write first) as a full disk does."""
    server = fake_server(responder=mcq_by_item_number)
    n = 150
    spec = str(write_bench(tmp_path / "bench", n))

    def cmd(runs: Path) -> list[str]:
        return [sys.executable, "-m", "medevals", "run", "-m", "openai:fake", "--base-url", server.base_url,
                "-b", spec, "-c", "4", "--no-cache", "--no-report", "--quiet", "--runs-dir", str(runs)]  # fmt: skip

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("OPENAI_API_KEY", None)
    subprocess.run(cmd(tmp_path / "ref"), env=env, check=True, timeout=120)
    reference = _comparable(RunFolder(next(p for p in (tmp_path / "ref").iterdir() if p.is_dir())))

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    runs = tmp_path / "runs"
    proc = subprocess.run(
        cmd(runs), env=env, preexec_fn=small_disk, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert (
        len(err.splitlines()) == 1
        and "cannot write (File too large); the file is larger than this disk or limit allows: free some space"
        in err
    ), err
    folder = RunFolder(next(p for p in runs.iterdir() if p.is_dir()))
    assert folder.read_manifest().status == "interrupted"
    for p in (folder.samples_path, folder.journal_path):
        _all_lines_whole(p)
    subprocess.run(cmd(runs), env=env, check=True, timeout=120)
    assert folder.read_manifest().status == "complete"
    assert _comparable(folder) == reference
