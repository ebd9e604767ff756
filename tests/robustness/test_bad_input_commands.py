"""Bad input to every command that is not a plain ``run``: run folders that are damaged or not
writable, report targets that cannot be written, suites and SQL with mistakes. Each gives one
line naming the file (and line or field where there is one), exit 2, no traceback, and
nothing already computed is lost."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from clihelp import fake_run_args, run_cli, run_ok
from extras_skip import needs
from fake_openai import mcq_by_item_number


def one_line_error(code: int, err: str, *needles: str) -> str:
    text = err.strip()
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(text.splitlines()) == 1, text
    assert text.startswith("error: "), text
    for n in needles:
        assert n in text, (n, text)
    return text


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished run folder (5 demo items) to copy and damage."""
    from fake_openai import FakeOpenAI

    server = FakeOpenAI(responder=mcq_by_item_number).start()
    try:
        d = tmp_path_factory.mktemp("finished")
        code = _run_plain(fake_run_args(server, d / "runs", "--limit", "5", report=True))
        assert code == 0
        (run,) = (d / "runs").iterdir()
        yield run
    finally:
        server.stop()


def _run_plain(args: list[str]) -> int:
    import sys

    from medevals.cli import main

    old, sys.argv = sys.argv, ["medevals", *args]
    try:
        main()
    except SystemExit as e:
        return int(e.code or 0)
    finally:
        sys.argv = old
    return 0


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    dst = tmp_path / finished_run.name
    shutil.copytree(finished_run, dst)
    return dst


def _replace_line(path: Path, n: int, text: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[n - 1] = text
    path.write_bytes(b"".join(lines))


# --------------------------------------------------------------------------- damaged run folders


@pytest.mark.parametrize("command", ["report", "rescore"])
def test_corrupt_sample_line_is_an_error_naming_the_line(run_copy, capsys, command):
    _replace_line(run_copy / "samples.jsonl", 3, b"garbage\n")
    before = (run_copy / "report.html").read_bytes()
    code, _, err = run_cli([command, str(run_copy)], capsys)
    one_line_error(code, err, "samples.jsonl:3: unreadable sample")
    assert (run_copy / "report.html").read_bytes() == before


def test_report_checks_lines_beyond_the_samples_it_shows(run_copy, capsys):
    _replace_line(run_copy / "samples.jsonl", 5, b'{"unit_id": "x", "benchmark": "demo", oops\n')
    code, _, err = run_cli(["report", str(run_copy), "--samples", "2"], capsys)
    one_line_error(code, err, "samples.jsonl:5: unreadable sample")


def test_sample_line_that_is_not_a_sample_names_the_field(run_copy, capsys):
    _replace_line(run_copy / "samples.jsonl", 2, b'{"x": 1}\n')
    code, _, err = run_cli(["report", str(run_copy)], capsys)
    one_line_error(code, err, "samples.jsonl:2: unreadable sample (field 'unit_id': Field required)")


def test_invalid_utf8_in_samples_is_an_error(run_copy, capsys):
    with (run_copy / "samples.jsonl").open("ab") as fh:
        fh.write(b'{"unit_id": "\xff\xfe"}\n')
    for command in ("report", "rescore"):
        code, _, err = run_cli([command, str(run_copy)], capsys)
        one_line_error(code, err, "samples.jsonl:6: unreadable sample")


def test_torn_last_line_from_a_crash_is_still_skipped(run_copy, capsys):
    with (run_copy / "samples.jsonl").open("ab") as fh:
        fh.write(b'{"unit_id": "demo/demo-0')
    code, out, err = run_cli(["report", str(run_copy)], capsys)
    assert code == 0, err
    assert "report:" in out


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"benchmarks": []}', b"\xff\xfe{}"])
def test_damaged_metrics_is_recomputed_from_the_samples(run_copy, capsys, content):
    """metrics.json is derived data: a damaged one is never trusted, never a traceback; the
    report computes the figures from samples.jsonl (and writes nothing but the report)."""
    (run_copy / "metrics.json").write_bytes(content)
    code, out, err = run_cli(["report", str(run_copy)], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert "5/5" in out  # the 5 samples, counted from samples.jsonl
    assert (run_copy / "metrics.json").read_bytes() == content
    assert "No metrics" not in (run_copy / "report.html").read_text()


def test_damaged_metrics_read_directly_is_one_line(run_copy):
    from medevals.errors import RunError
    from medevals.runs.folder import RunFolder

    for content, needle in [(b"{not json", "unreadable metrics"), (b"[1]", "not a metrics object")]:
        (run_copy / "metrics.json").write_bytes(content)
        with pytest.raises(RunError, match=needle) as e:
            RunFolder(run_copy).read_metrics()
        assert "medevals rescore" in str(e.value) and "\n" not in str(e.value)


def test_manifest_missing_a_field_names_the_field(run_copy, capsys):
    m = json.loads((run_copy / "manifest.json").read_text())
    del m["model"]
    (run_copy / "manifest.json").write_text(json.dumps(m))
    code, _, err = run_cli(["report", str(run_copy)], capsys)
    one_line_error(code, err, "manifest.json: unreadable manifest (field 'model': Field required)")


@pytest.mark.parametrize("path", ["plain-file.txt", "empty-folder"])
def test_report_on_something_that_is_not_a_run(tmp_path, capsys, path):
    p = tmp_path / path
    if path.endswith(".txt"):
        p.write_text("hello")
    else:
        p.mkdir()
    code, _, err = run_cli(["report", str(p)], capsys)
    one_line_error(code, err, f"{p}: not a run folder")


def test_negative_sample_count(run_copy, capsys):
    code, _, err = run_cli(["report", str(run_copy), "--samples", "-1"], capsys)
    one_line_error(code, err, "--samples must be 0 or more")


# --------------------------------------------------------------------------- unwritable places


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_report_on_a_full_disk(run_copy, capsys):
    code, _, err = run_cli(["report", str(run_copy), "-o", "/dev/full"], capsys)
    one_line_error(code, err, "/dev/full: No space left on device", "free some space")


def test_full_disk_keeps_the_previous_report_whole(run_copy, capsys, monkeypatch):
    before = (run_copy / "report.html").read_bytes()
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name.endswith(".tmp"):
            real(self, data[: len(data) // 2])  # half written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = run_cli(["report", str(run_copy)], capsys)
    one_line_error(code, err, f"{run_copy / 'report.html'}: No space left on device")
    assert (run_copy / "report.html").read_bytes() == before
    assert sorted(p.name for p in run_copy.iterdir() if p.name.endswith(".tmp")) == []


def test_report_into_a_folder(run_copy, capsys, tmp_path):
    code, _, err = run_cli(["report", str(run_copy), "-o", str(tmp_path)], capsys)
    one_line_error(code, err, f"{tmp_path}: Is a directory")


def _read_only(monkeypatch, request, path: Path) -> None:
    """Make ``path`` read-only: chmod where that binds (not root); as root, which ignores modes,
    every write under it gets the error a read-only file system gives."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        request.addfinalizer(lambda: path.chmod(0o755))
        return
    real_mkdir, real_open = os.mkdir, Path.open

    def refuse(p: object) -> None:
        if str(p).startswith(str(path)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(p))

    def mkdir(p, *a, **kw):
        refuse(p)
        return real_mkdir(p, *a, **kw)

    def open_(self, mode="r", *a, **kw):
        if any(c in mode for c in "wax+"):
            refuse(self)
        return real_open(self, mode, *a, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(Path, "open", open_)


def test_read_only_runs_folder(fake_server, tmp_path, capsys, monkeypatch, request):
    runs = tmp_path / "ro"
    runs.mkdir()
    _read_only(monkeypatch, request, runs)
    code, _, err = run_cli(fake_run_args(fake_server(), runs), capsys)
    one_line_error(code, err, str(runs))
    assert list(runs.iterdir()) == []


def test_runs_folder_that_is_a_file(fake_server, tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.write_text("not a folder")
    code, _, err = run_cli(fake_run_args(fake_server(), runs), capsys)
    one_line_error(code, err, f"{runs}: is a file, not a folder")
    assert runs.read_text() == "not a folder"


def test_read_only_run_folder_report(run_copy, capsys, monkeypatch, request):
    _read_only(monkeypatch, request, run_copy)
    before = (run_copy / "report.html").read_bytes()
    code, _, err = run_cli(["report", str(run_copy)], capsys)
    one_line_error(code, err, str(run_copy))
    assert (run_copy / "report.html").read_bytes() == before


# --------------------------------------------------------------------------- suites and SQL


def _suite(tmp_path: Path, text: str | bytes) -> str:
    p = tmp_path / "s.toml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('name = "x"\n[defaults]\nlimit = "lots"\n[[benchmark]]\nname = "demo"\n', ["s.toml:3: field 'defaults.limit'"]),
        ('name = "x"\n[[benchmark]]\nname = "demo"\n[[benchmark]]\nname = "demo"\nlimit = 0\n', ["s.toml:6: field 'benchmark.1.limit'"]),
        ('name = "x"\n[[benchmark]]\nname = ""\n', ["s.toml:3: field 'benchmark.0.name': String should have at least 1 character"]),
        ('name = "x"\n[[benchmark]]\nname = "demo"\n[[benchmark]]\nname = "medqaa"\n', ["s.toml:4: [[benchmark]] 'medqaa': unknown benchmark 'medqaa'"]),
        ('name = "x"\n[[benchmark]]\nname = "demo"\noptions = {colour = "red"}\n', ["s.toml:2: [[benchmark]] 'demo': option(s) colour"]),
        ('name = "x"\n[[benchmark]\n', ["s.toml:2: invalid TOML"]),
        ('name = "caf\xe9"\n'.encode("latin-1"), ["s.toml:1: not valid UTF-8"]),
    ],
)  # fmt: skip
def test_bad_suite_names_file_and_line(fake_server, tmp_path, capsys, text, needles):
    server = fake_server(responder=mcq_by_item_number)
    runs = tmp_path / "runs"
    args = ["suite", "run", _suite(tmp_path, text), "-m", "openai:fake", "--base-url", server.base_url]
    code, _, err = run_cli([*args, "--runs-dir", str(runs), "--no-cache", "-q", "--limit", "1"], capsys)
    one_line_error(code, err, *needles)
    assert len(server.requests) <= 1  # an earlier good entry may have run; the bad one never did


def test_suite_report_into_a_folder(fake_server, tmp_path, capsys):
    server = fake_server(responder=mcq_by_item_number)
    suite = _suite(tmp_path, 'name = "x"\n[[benchmark]]\nname = "demo"\n')
    args = ["suite", "run", suite, "-m", "openai:fake", "--base-url", server.base_url, "-o", str(tmp_path)]
    code, _, err = run_cli(
        [*args, "--runs-dir", str(tmp_path / "runs"), "--no-cache", "-q", "--limit", "1"], capsys
    )
    one_line_error(code, err, f"{tmp_path}: Is a directory")


def test_leaderboard_bad_sql(fake_server, tmp_path, capsys):
    run_ok(fake_server(responder=mcq_by_item_number), tmp_path, capsys, "--limit", "2")
    code, _, err = run_cli(["leaderboard", str(tmp_path / "runs"), "--sql", "SELEC 1"], capsys)
    one_line_error(code, err, "--sql: Parser Error")


def test_calculators_generate_into_a_folder(tmp_path, capsys):
    code, _, err = run_cli(["calculators", "generate", "--out", str(tmp_path)], capsys)
    one_line_error(code, err, f"{tmp_path}: Is a directory")


def test_leaderboard_index_that_cannot_be_written(fake_server, tmp_path, capsys):
    run_ok(fake_server(responder=mcq_by_item_number), tmp_path, capsys, "--limit", "2")
    (tmp_path / "runs" / "index.duckdb").mkdir()  # in the way: duckdb cannot create its file
    code, _, err = run_cli(["leaderboard", str(tmp_path / "runs"), "--write-index"], capsys)
    one_line_error(code, err, "index.duckdb")


@needs("fhir")
def test_fhir_sandbox_database_that_cannot_be_opened(tmp_path, capsys):
    code, _, err = run_cli(["fhir", "serve", "--db", str(tmp_path / "no" / "such" / "x.sqlite")], capsys)
    one_line_error(code, err, "--db", "cannot open it as the sandbox's SQLite file")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "-b", "demo", "--limit", "abc"], "Invalid value for '--limit'"),
        (["run", "-b", "demo", "--colour", "red"], "No such option: --colour"),
        (["run", "-m", "openai:x"], "Missing option '--benchmark'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["fhir", "serve", "--port", "99999"], "Invalid value for '--port'"),
        (["mcp", "calculators", "--port", "-1"], "Invalid value for '--port'"),
        (["report", "x", "--samples", "many"], "Invalid value for '--samples'"),
    ],
)
def test_usage_errors_are_one_line_with_the_help_to_read(capsys, args, needle):
    code, _, err = run_cli(args, capsys)
    one_line_error(code, err, needle, "--help`)")
