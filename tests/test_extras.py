"""Commands that need a missing optional extra stop at once with one line: what and how to install."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from clihelp import run_cli

from medevals import extras

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def without(monkeypatch):
    """Pretend the given top-level modules are not installed."""

    def hide(*modules: str) -> None:
        real = extras._present
        monkeypatch.setattr(extras, "_present", lambda m: m.split(".")[0] not in modules and real(m))

    return hide


@pytest.mark.parametrize(
    ("args", "hidden", "extra", "who"),
    [
        (["fhir", "serve"], ("fastapi",), "fhir", "`medevals fhir serve`"),
        (["mcp", "calculators"], ("mcp",), "mcp", "`medevals mcp calculators`"),
        (
            ["run", "-m", "openai:x", "--base-url", "http://127.0.0.1:9/v1", "-b", "ehr-agent"],
            ("fhir",),
            "fhir",
            "benchmark 'ehr-agent'",
        ),
    ],
)
def test_missing_extra_is_one_line_with_the_install_command(
    args, hidden, extra, who, without, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    without(*hidden)
    code, _out, err = run_cli(args, capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert who in err and f"needs the '{extra}' extra" in err
    assert f"pip install -e '.[{extra}]'" in err
    assert not (tmp_path / "runs").exists()  # stopped before any run folder


def test_extras_table_matches_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in extras.EXTRAS:
        assert name in declared, name
    everything = declared["all"][0]
    assert all(name in everything for name in extras.EXTRAS), everything
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    heavy = ("ranx", "numba", "matplotlib", "pandas", "seaborn", "fhir.resources", "mcp", "fastapi", "torch")
    assert not [d for d in core if d.split(">")[0].split("=")[0].split("[")[0] in heavy]
