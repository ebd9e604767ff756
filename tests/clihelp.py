"""Run the medevals CLI in-process the way a user would, capturing exit code and output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from medevals.runs.folder import RunFolder


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from medevals.cli import main

    old = sys.argv
    sys.argv = ["medevals", *args]
    code = 0
    try:
        main()
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fake_run_args(
    server: Any,
    runs: Path,
    *extra: str,
    model: str | None = "openai:fake",
    benchmark: str | None = "demo",
    cache: bool | Path = False,
    report: bool = False,
) -> list[str]:
    """The arguments of ``medevals run`` for ``model`` served by ``server`` (a fake_server or a base
    URL), writing to ``runs``.

    ``server``/``model``/``benchmark`` None leave out ``--base-url``/``-m``/``-b``. ``cache``: False
    gives ``--no-cache``, True the default cache, a path ``--cache PATH``. ``report`` False gives
    ``--no-report``. ``extra`` comes last.
    """
    args = ["run"]
    if model is not None:
        args += ["-m", model]
    if server is not None:
        args += ["--base-url", server if isinstance(server, str) else server.base_url]
    if benchmark is not None:
        args += ["-b", benchmark]
    args += ["--runs-dir", str(runs)]
    if cache is False:
        args.append("--no-cache")
    elif cache is not True:
        args += ["--cache", str(cache)]
    if not report:
        args.append("--no-report")
    return [*args, *extra]


def run_folders(runs: Path) -> list[Path]:
    return sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


def only_run(runs: Path) -> RunFolder:
    """The one run folder in ``runs`` (fails unless there is exactly one)."""
    folders = run_folders(runs)
    assert len(folders) == 1, f"expected one run folder in {runs}, found {[p.name for p in folders]}"
    return RunFolder(folders[0])


def run_fake(
    server: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
    runs: Path | None = None,
    **kw: Any,
) -> tuple[int, str, str, RunFolder | None]:
    """``medevals run`` as built by :func:`fake_run_args` into ``runs`` (default ``tmp_path/runs``).

    Returns the exit code, stdout, stderr and the run folder (None when none was made; fails
    when ``runs`` holds more than one).
    """
    runs = tmp_path / "runs" if runs is None else runs
    code, out, err = run_cli(fake_run_args(server, runs, *extra, **kw), capsys)
    return code, out, err, only_run(runs) if run_folders(runs) else None


def run_ok(
    server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, **kw: Any
) -> RunFolder:
    """:func:`run_fake` that must exit 0 and leave exactly one run folder, which it returns."""
    code, out, err, folder = run_fake(server, tmp_path, capsys, *extra, **kw)
    assert code == 0, err + out
    assert folder is not None, "the run left no run folder"
    return folder
