"""Bad input on the command line: one clear line, a non-zero exit, nothing already computed lost."""

import pytest
from clihelp import run_cli

#: Nothing listens here: a run that gets past its checks fails on its first call.
UNREACHABLE = "http://127.0.0.1:9/v1"


def run_args(*extra: str, benchmark: str = "demo", base_url: str = UNREACHABLE) -> list[str]:
    """``medevals run`` of model openai:x at ``base_url`` on ``benchmark``, then ``extra``."""
    return ["run", "-m", "openai:x", "--base-url", base_url, "-b", benchmark, *extra]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (run_args(benchmark="medqaa"), "unknown benchmark 'medqaa' (did you mean medqa"),
        (["run", "-m", "gpt4", "-b", "demo"], "model 'gpt4': expected PREFIX:NAME"),
        (["run", "-m", "azure:gpt4", "-b", "demo"], "unknown prefix 'azure:'"),
        (["run", "-m", "openai:x", "-b", "demo"], "no server given; pass --base-url"),
        (run_args(base_url="ftp://h/v1"), "must start with http:// or https://"),
        (
            run_args(base_url="https://api.example.com/v1"),
            "environment variable OPENAI_API_KEY is not set",
        ),
        (run_args("--set", "colour=red"), "option(s) colour are not used"),
        (run_args("--strategy", "magic"), "unknown strategy 'magic'"),
        (
            run_args("--data-dir", "MISSING", benchmark="medqa"),
            "data directory does not exist",
        ),
        (["report", "MISSING/run"], "not a run folder"),
        (run_args("--price-in", "1"), "--price-in and --price-out go together"),
    ],
)
def test_bad_input_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    # a path that surely does not exist (a shared /nonexistent may have been made by anything)
    args = [a.replace("MISSING", str(tmp_path / "missing")) for a in args]
    code, _out, err = run_cli([*args, *(["--runs-dir", str(tmp_path)] if args[0] == "run" else [])], capsys)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_unreachable_server_keeps_nothing_broken(capsys, tmp_path):
    code, _out, err = run_cli(
        run_args("--runs-dir", str(tmp_path), "--max-retries", "0", "--no-cache", "-c", "1"), capsys
    )
    assert code == 3
    text = " ".join(err.split())
    assert "failed 5 calls in a row" in text and "rerun the same command to resume" in text
    run = next(tmp_path.iterdir())
    assert (run / "manifest.json").exists()
    assert '"status": "interrupted"' in (run / "manifest.json").read_text()


def test_help_teaches(capsys):
    code, out, _ = run_cli(["run", "--help"], capsys)
    assert code == 0 and "--benchmark" in out and "Examples" in out


def test_list_shows_benchmarks(capsys):
    code, out, _ = run_cli(["list", "--json"], capsys)
    assert code == 0
    for name in ("medqa", "medmcqa", "pubmedqa", "mmlu-med", "medbullets", "medagentsbench", "demo"):
        assert f'"{name}"' in out
