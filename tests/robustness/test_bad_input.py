"""Bad input sweep: each malformed input gives one clear line and exit code 2, and nothing
already in the runs folder (a finished run) is touched, and no half-made run folder is left."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import fake_run_args, run_cli
from fake_openai import FakeOpenAI, mcq_by_item_number

GOOD = {"id": "q1", "question": "Which?", "options": {"A": "a", "B": "b", "C": "c", "D": "d"}, "answer": "B"}
SPEC = "name: bad\ndata: {data}\nfields: {{id: id, question: question, options: options, answer: answer}}\n"


def _jsonl(*rows: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _row(**kw: object) -> dict:
    r = {**GOOD, **kw}
    return {k: v for k, v in r.items() if v is not None}


def _files(spec: str | None = None, data: bytes | str | None = None, name: str = "items.jsonl"):
    """A writer for spec.yaml (default spec over ``name``) + data file; returns the -b value."""

    def write(d: Path) -> str:
        if data is not None:
            (d / name).write_bytes(data.encode() if isinstance(data, str) else data)
        (d / "spec.yaml").write_text(spec if spec is not None else SPEC.format(data=name), encoding="utf-8")
        return str(d / "spec.yaml")

    return write


Case = tuple[str, Callable[[Path], str], list[str], str]

CASES: list[Case] = [
    (
        "truncated jsonl",
        _files(data=_jsonl(GOOD, _row(id="q2")) + '{"id": "q3", "question": "Wh'),
        [],
        "items.jsonl:3: invalid JSON",
    ),
    (
        "latin-1 encoding",
        _files(data=_jsonl(GOOD).replace("Which?", "Qu'est-ce qui est bénin ?").encode("latin-1")),
        [],
        "items.jsonl:1: not valid UTF-8",
    ),
    (
        "utf-16 encoding",
        _files(data=_jsonl(GOOD, _row(id="q2")).encode("utf-16")),
        [],
        "items.jsonl:1: not valid UTF-8",
    ),
    ("missing answer key", _files(data=_jsonl(GOOD, _row(id="q2", answer=None))), [], ":2: field 'answer': missing"),
    ("answer not among options", _files(data=_jsonl(_row(answer="E"))), [], "items.jsonl:1: field 'answer'"),
    ("duplicate ids", _files(data=_jsonl(GOOD, _row(question="Other?"))), [], "duplicate item id 'q1'"),
    ("empty file", _files(data=""), [], "items.jsonl: file is empty"),
    ("blank lines only", _files(data="\n\n  \n"), [], "items.jsonl: file is empty"),
    ("huge garbage line", _files(data=_jsonl(GOOD) + "x" * 5_000_000 + "\n"), [], "items.jsonl:2: invalid JSON"),
    ("json array line", _files(data=_jsonl(GOOD, [1, 2])), [], "items.jsonl:2: expected a JSON object, got list"),
    ("empty option", _files(data=_jsonl(_row(options={"A": "a", "B": "", "C": "c"}))), [], "option B is empty"),
    ("options not a mapping", _files(data=_jsonl(_row(options="a|b|c"))), [], "options must be an object or a list"),
    ("json not a list", _files(data='{"a": 1}', name="items.json"), [], "a .json data file must hold a list"),
    ("csv wrong columns", _files(data="id,question\nq1,Which?,extra\n", name="items.csv"), [], "items.csv:2: expected 2 columns, found 3"),
    ("unsupported format", _files(data="whatever", name="items.txt"), [], "unsupported data format '.txt'"),
    ("yaml syntax error", _files(spec="name: bad\nfields: {id: id\ndata: x.jsonl\n"), [], "spec.yaml:3: invalid YAML"),
    ("yaml not a mapping", _files(spec="- name: bad\n"), [], "spec.yaml:1: a benchmark spec must be a YAML mapping"),
    ("yaml unknown key", _files(spec=SPEC.format(data="items.jsonl") + "colour: red\n", data=_jsonl(GOOD)), [], "spec.yaml:4: field 'colour': Extra inputs are not permitted"),
    ("yaml missing field", _files(spec="name: bad\ndata: items.jsonl\nfields: {question: q, options: o}\n", data=_jsonl(GOOD)), [], "field 'fields.answer': Field required"),
    ("yaml data file missing", _files(spec=SPEC.format(data="nowhere.jsonl")), [], "field 'data': file"),
    ("yaml bad protocol option", _files(spec=SPEC.format(data="items.jsonl") + "options: {shots: 0}\n", data=_jsonl(GOOD)), [], "option 'shots'"),
    ("spec file missing", lambda d: str(d / "missing.yaml"), [], "missing.yaml: benchmark spec not found"),
    ("unknown benchmark", lambda d: "medqaa", [], "unknown benchmark 'medqaa'"),
    ("unknown model prefix", _files(data=_jsonl(GOOD)), ["-m", "azure:gpt4"], "unknown prefix 'azure:'"),
    ("model without prefix", _files(data=_jsonl(GOOD)), ["-m", "gpt4"], "expected PREFIX:NAME"),
    ("bad base url", _files(data=_jsonl(GOOD)), ["--base-url", "ftp://h/v1"], "must start with http:// or https://"),
    ("missing api key", _files(data=_jsonl(GOOD)), ["--base-url", "https://api.example.com/v1"], "environment variable OPENAI_API_KEY is not set"),
    ("missing custom key env", _files(data=_jsonl(GOOD)), ["--api-key-env", "MEDEVALS_NO_SUCH_KEY"], "MEDEVALS_NO_SUCH_KEY is not set"),
    ("bad concurrency", _files(data=_jsonl(GOOD)), ["-c", "0"], "--concurrency must be at least 1"),
    ("resume a non-run", _files(data=_jsonl(GOOD)), ["--resume", "/nonexistent/run"], "not a run folder"),
    # silent coercions are errors: the value is never turned into text with str()
    ("list as question", _files(data=_jsonl(_row(question=["Which", "drug?"]))), [], "items.jsonl:1: field 'question': expected text, got list"),
    ("dict as id", _files(data=_jsonl(_row(id={"n": 1}))), [], "items.jsonl:1: field 'id': expected text, got dict"),
    ("NaN as id", _files(data=_jsonl(GOOD).replace('"q1"', "NaN")), [], "items.jsonl:1: field 'id': expected text, got the number nan"),
    ("NaN option", _files(data=_jsonl(GOOD).replace('"a"', "NaN")), [], "items.jsonl:1: field 'options.A': expected text, got the number nan"),
    ("infinite option", _files(data=_jsonl(GOOD).replace('"a"', "-Infinity")), [], "field 'options.A': expected text, got the number -inf"),
    ("object as option text", _files(data=_jsonl(_row(options={"A": {"t": "a"}, "B": "b"}))), [], "field 'options.A': expected text or a number, got dict"),
    ("list as option text", _files(data=_jsonl(_row(options=[["a"], "b"]))), [], "field 'options.A': expected text or a number, got list"),
    ("list as answer", _files(data=_jsonl(_row(answer=["B"]))), [], "items.jsonl:1: field 'answer': expected text, got list"),
    ("list as context", _files(spec=SPEC.format(data="items.jsonl").replace("answer}", "answer, context: ctx}"), data=_jsonl(_row(ctx=["x"]))), [], "items.jsonl:1: field 'ctx': expected text, got list"),
    ("float as index answer", _files(spec=SPEC.format(data="items.jsonl") + "answer_format: index0\n", data=_jsonl(_row(answer=1.7))), [], "answer '1.7' is not a valid index0"),
    ("bool as index answer", _files(spec=SPEC.format(data="items.jsonl") + "answer_format: index0\n", data=_jsonl(_row(answer=True))), [], "answer 'True' is not a valid index0"),
    ("list as answer text", _files(spec=SPEC.format(data="items.jsonl") + "answer_format: text\n", data=_jsonl(_row(answer=[1]))), [], "field 'answer': expected text or a number, got list"),
    # the spec itself
    ("spec not UTF-8", lambda d: (d / "spec.yaml").write_bytes("name: b\u00e9nin\n".encode("latin-1")) and str(d / "spec.yaml"), [], "spec.yaml:1: not valid UTF-8 (byte 7)"),
    ("spec is a folder", lambda d: (d / "dir.yaml").mkdir() or str(d / "dir.yaml"), [], "dir.yaml: is a folder; expected a benchmark spec"),
    ("data is a folder", _files(spec=SPEC.format(data=".")), [], "field 'data': file"),
    ("empty benchmark name", _files(spec=SPEC.format(data="items.jsonl").replace("name: bad", 'name: ""'), data=_jsonl(GOOD)), [], "spec.yaml:1: field 'name': String should have at least 1 character"),
    ("union member in field path", _files(spec=SPEC.format(data="items.jsonl").replace("options: options", "options: {a: 1}"), data=_jsonl(GOOD)), [], "spec.yaml:3: field 'fields.options': Input should be a valid string"),
    # specs for every protocol and what real files needed (tests/benchmarks/test_spec_conveniences.py)
    ("duplicate id names both lines", _files(data=_jsonl(GOOD, _row(id="q2"), _row(question="Again?"))), [], "items.jsonl:3: field 'id': duplicate item id 'q1' (first on line 1)"),
    ("records path not in the document", _files(spec=SPEC.format(data="items.json") + "records: data.items\n", data='{"data": {"rows": []}}', name="items.json"), [], "items.json:1: field 'records': records 'data.items': 'data' has no 'items'"),
    ("join names no field", _files(spec=SPEC.format(data="items.jsonl") + "join: {contxt: ' '}\n", data=_jsonl(GOOD)), [], "spec.yaml:4: field 'join.contxt': 'contxt' is not one of this spec's fields"),
    ("key of another protocol", _files(spec=SPEC.format(data="items.jsonl") + "corpus: docs.jsonl\n", data=_jsonl(GOOD)), [], "spec.yaml:4: field 'corpus': applies to protocol retrieval only, not mcq"),
    ("ner spec without types", _files(spec="name: bad\ndata: items.jsonl\nprotocol: ner\nfields: {tokens: t, tags: g}\n", data=_jsonl({"t": ["a"], "g": ["O"]})), [], "spec.yaml:3: field 'options.types': protocol ner needs options.types"),
    ("rubric criterion without points", _files(spec="name: bad\ndata: items.jsonl\nprotocol: rubric\nfields: {prompt: p, rubrics: r}\n", data=_jsonl({"p": "hi", "r": [{"criterion": "c"}]})), ["--judge", "openai:j"], "items.jsonl:1: field 'r[0].points': missing"),
    # prices, --set, --strategy
    ("price not a number", _files(data=_jsonl(GOOD), name="items.jsonl"), ["--prices", "PRICES:[fake]\ninput = 1\noutput = \"cheap\"\n"], "prices.toml:3: [fake] output: expected a number of USD per 1M tokens, got str 'cheap'"),
    ("price NaN", _files(data=_jsonl(GOOD)), ["--prices", "PRICES:[fake]\ninput = nan\noutput = 1\n"], "prices.toml:2: [fake] input: expected a finite number >= 0"),
    ("price negative", _files(data=_jsonl(GOOD)), ["--prices", "PRICES:[fake]\ninput = 1\noutput = -2\n"], "prices.toml:3: [fake] output: expected a finite number >= 0"),
    ("price table not a table", _files(data=_jsonl(GOOD)), ["--prices", "PRICES:\nfake = 3\n"], "prices.toml:2: [fake] needs 'input' and 'output'"),
    ("price unknown key", _files(data=_jsonl(GOOD)), ["--prices", "PRICES:[fake]\ninput = 1\noutput = 1\ninptu = 2\n"], "prices.toml:4: [fake] unknown key 'inptu'"),
    ("price file is a folder", _files(data=_jsonl(GOOD)), ["--prices", "PRICES_DIR"], "prices.toml: is a folder; expected a price table"),
    ("price TOML syntax", _files(data=_jsonl(GOOD)), ["--prices", "PRICES:[fake]\ninput = \n"], "prices.toml:2: invalid TOML"),
    ("--price-in NaN", _files(data=_jsonl(GOOD)), ["--price-in", "nan", "--price-out", "1"], "--price-in: expected a finite number >= 0"),
    ("--set empty key", _files(data=_jsonl(GOOD)), ["--set", "=3"], "--set '=3': empty KEY"),
    ("--strategy empty", _files(data=_jsonl(GOOD)), ["--strategy", ","], "option 'strategy': Value error, no strategy given"),
]  # fmt: skip


def _place(arg: str, d: Path) -> str:
    """``PRICES:<toml>`` -> the path of a prices.toml holding it; ``PRICES_DIR`` -> a folder of that name."""
    if arg.startswith("PRICES:"):
        (d / "prices.toml").write_text(arg.removeprefix("PRICES:"), encoding="utf-8")
        return str(d / "prices.toml")
    if arg == "PRICES_DIR":
        (d / "prices.toml").mkdir()
        return str(d / "prices.toml")
    return arg


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory) -> tuple[Path, FakeOpenAI]:
    """A runs folder holding one finished run (which no bad input may touch)."""
    server = FakeOpenAI(responder=mcq_by_item_number).start()
    d = tmp_path_factory.mktemp("ok")
    spec = _files(data=_jsonl(GOOD, _row(id="q2")))(d)
    runs = d / "runs"
    code = run_cli_plain(fake_run_args(server, runs, benchmark=spec, report=True))
    assert code == 0
    yield runs, server
    server.stop()


def run_cli_plain(args: list[str]) -> int:
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


def test_there_are_at_least_20_cases():
    assert len(CASES) >= 20 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "make", "extra", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_nothing_lost(
    name, make, extra, message, finished_runs, tmp_path, capsys, monkeypatch
):
    runs, server = finished_runs
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    before, entries, n_requests = _snapshot(runs), sorted(runs.iterdir()), len(server.requests)
    bench = make(tmp_path)
    extra = [_place(x, tmp_path) for x in extra]
    args = fake_run_args(
        None if "--base-url" in extra else server,  # the case overrides it
        runs,
        *extra,
        model=None if "-m" in extra else "openai:fake",
        benchmark=bench,
        report=True,
    )
    code, out, err = run_cli(args, capsys)
    text = err.strip()
    assert code == 2, (code, out, err)
    assert message in " ".join(text.split()), text
    assert "Traceback" not in err and len(text.splitlines()) == 1, text
    assert _snapshot(runs) == before, "the finished run folder was changed"
    assert sorted(runs.iterdir()) == entries, "a run folder was left behind"
    assert len(server.requests) == n_requests, "a model call was made"


def test_resume_of_a_missing_folder_creates_nothing(finished_runs, tmp_path, capsys):
    """`--resume DIR/run` on a path that does not exist must not create DIR (it did: the
    runs-directory lock made the parent before the folder was checked)."""
    _runs, server = finished_runs
    parent = tmp_path / "never-made"
    spec = _files(data=_jsonl(GOOD))(tmp_path)
    args = fake_run_args(server, tmp_path / "runs", "--resume", str(parent / "run"), benchmark=spec)
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and "not a run folder" in err
    assert not parent.exists()
