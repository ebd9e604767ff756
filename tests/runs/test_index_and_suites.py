"""Results index (DuckDB) over run folders, leaderboard and win rates; suites in TOML."""

import pytest
from clihelp import fake_run_args, run_cli
from fake_openai import answer_letter_from_target

from medevals.benchmarks import base, registry
from medevals.errors import ConfigError
from medevals.runs.index import build_index, leaderboard, win_rates
from medevals.suites import load_suite


def _responder(n_correct: int):
    items = base.load(registry.get("demo")).items
    targets = {}
    for i, it in enumerate(items):
        targets[it.input] = it.target if i < n_correct else next(k for k in it.choices if k != it.target)
    return answer_letter_from_target(targets)


def _run(server, model: str, runs, capsys, *extra: str):
    code, _, err = run_cli(fake_run_args(server, runs, *extra, model=f"openai:{model}"), capsys)
    assert code == 0, err


def test_leaderboard_and_win_rates(fake_server, tmp_path, capsys):
    good, bad = fake_server(responder=_responder(30)), fake_server(responder=_responder(10))
    runs = tmp_path / "runs"
    _run(good, "good", runs, capsys)
    _run(bad, "bad", runs, capsys, "--strategy", "zero-shot,cot")
    con = build_index([runs])
    rows = leaderboard(con)
    assert [(r[0], round(r[3], 3)) for r in rows] == [("openai:good", 0.75), ("openai:bad", 0.25)]
    assert rows[0][4] < 0.75 < rows[0][5]  # CI carried through
    assert dict((m, w) for m, w, *_ in win_rates(con)) == {"openai:good": 1.0, "openai:bad": 0.0}
    variants = con.execute(
        "SELECT variant, value FROM results WHERE model = 'openai:bad' AND variant <> '' ORDER BY variant"
    ).fetchall()
    assert [v for v, _ in variants] == ["cot", "zero-shot"]
    code, out, _ = run_cli(["leaderboard", str(runs), "--write-index"], capsys)
    assert code == 0 and "openai:good" in out and "win rate" in out
    assert (runs / "index.duckdb").exists()
    code, out, _ = run_cli(["leaderboard", str(runs), "--sql", "SELECT count(*) AS n FROM runs"], capsys)
    assert code == 0 and "2" in out


def test_suite_runs_each_entry(fake_server, tmp_path, capsys):
    server = fake_server(responder=_responder(20))
    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "tiny"\n[defaults]\nlimit = 4\n[[benchmark]]\nname = "demo"\n'
        '[[benchmark]]\nname = "demo"\nlimit = 2\noptions = { strategy = "cot" }\n',
        encoding="utf-8",
    )
    code, _out, err = run_cli(
        [
            "suite",
            "run",
            str(suite),
            "-m",
            "openai:fake",
            "--base-url",
            server.base_url,
            "--runs-dir",
            str(tmp_path / "runs"),
            "--no-cache",
            "-q",
        ],
        capsys,
    )
    assert code == 0, err
    assert server.n_requests == 6
    assert (tmp_path / "runs" / "suite-tiny.html").exists()


def test_bundled_suites_load_and_bad_suites_fail_clearly(tmp_path):
    assert [e.name for e in load_suite("mcq-core").benchmark][:2] == ["medqa", "medmcqa"]
    with pytest.raises(ConfigError, match="unknown suite 'nope'"):
        load_suite("nope")
    bad = tmp_path / "b.toml"
    bad.write_text('name = "x"\n[[benchmark]]\nnam = "demo"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b.toml:2: field 'benchmark.0.name': Field required"):
        load_suite(str(bad))
