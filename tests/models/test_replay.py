"""``replay:FILE``: recorded outputs answer the items through the normal engine path.

The MedQA demonstration: 50 recorded answers to the first 50 MedQA test items, clear, tricky and
unreadable, each hand-labelled with the verdict the benchmark's rule gives (the reply states one
option; that option equals the gold letter; a reply stating no option is unreadable and wrong).
The expected accuracy is counted from those labels, never from medevals' scorer, and must equal
what ``medevals run -m replay:FILE -b medqa --mode generate`` reports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clihelp import only_run, run_cli
from conftest import data_dir
from extras_skip import needs

from medevals.benchmarks import base, registry

LETTERS = "ABCD"
RIGHT, WRONG, UNREAD = "right", "wrong", "unreadable"

# (item index, recorded output, verdict). {g} gold letter, {w}/{w2}/{w3} the other letters,
# {gi} the gold option's position (1-4). Verdicts are the rule's, written by hand.
MEDQA_ROWS: list[tuple[int, str, str]] = [
    (0, "{g}", RIGHT),
    (1, "({g})", RIGHT),
    (2, "The answer is ({g}).", RIGHT),
    (3, "The answer is {w}.", WRONG),
    (4, "Answer: {g}", RIGHT),
    (5, '{{"answer": "{g}"}}', RIGHT),
    (6, "Final decision: \\boxed{{{g}}}", RIGHT),
    (7, "Clopidogrel", RIGHT),  # item 7's gold option text (C), no letter
    (8, "{g} is the correct answer.", RIGHT),
    (9, "Option {g} is correct.", RIGHT),
    (10, "The answer is option {gi}", RIGHT),  # position -> letter
    (11, "{w} is the answer.", WRONG),
    (12, "Final answer: {w}", WRONG),
    (13, "A patient with these findings needs no further test. The answer is ({g}).", RIGHT),  # not "A"
    (14, "Option {w} is incorrect and option {w2} is incorrect; option {g} is correct.", RIGHT),
    (15, "({w}), ({w2}) and ({w3}) are wrong, so ({g}).", RIGHT),  # not the first letter listed
    (16, "Let's think step by step. Option {w} looks tempting, but the answer is ({g}).", RIGHT),
    (17, "The answer is ({w}). On reflection, the answer is ({g}).", RIGHT),  # the last statement
    (18, "The answer is ({g}). On reflection, the answer is ({w}).", WRONG),
    (19, "I would not choose {g}; the answer is {w}.", WRONG),
    (20, "<think>maybe {w}</think>The answer is {g}", RIGHT),
    (21, "**Answer: {g}**", RIGHT),
    (22, "I am not sure.", UNREAD),
    (23, "", UNREAD),
    (24, "None of the options is correct.", UNREAD),
    (25, "Answer: E", UNREAD),  # not an option of this item
    (26, "I cannot answer medical questions.", UNREAD),
    (27, "Let's think step by step. The patient presents with", UNREAD),  # cut off
    (28, "The answer is not {g}.", UNREAD),  # a negation names no answer
    (29, "{w}", WRONG),
    (30, "The answer is ({g}).", RIGHT),
    (31, "The answer is ({w}).", WRONG),
    (32, "The answer is ({g}).", RIGHT),
    (33, "({w})", WRONG),
    (34, "The correct answer is {g}.", RIGHT),
    (35, "The correct answer is {w}.", WRONG),
    (36, "{g}", RIGHT),
    (37, "{w}", WRONG),
    (38, "{g}. 2.67", RIGHT),  # item 38: labelled answer with its text
    (39, "The answer is ({g}).", RIGHT),
    (40, "The answer is ({w}).", WRONG),
    (41, "The answer is ({g}).", RIGHT),
    (42, "The answer is ({g}).", RIGHT),
    (43, "The answer is ({w}).", WRONG),
    (44, "The answer is ({g}).", RIGHT),
    (45, "Fomepizole.", RIGHT),  # item 45's gold option text (D)
    (46, "The answer is ({w}).", WRONG),
    (47, "The answer is ({g}).", RIGHT),
    (48, "Hmm.", UNREAD),
    (49, "The answer is ({g}).", RIGHT),
]


def _fill(text: str, gold: str) -> str:
    others = [x for x in LETTERS if x != gold]
    return text.format(g=gold, w=others[0], w2=others[1], w3=others[2], gi=LETTERS.index(gold) + 1)


@pytest.fixture(scope="module")
def medqa_items():
    data_dir()
    items = base.load(registry.get("medqa")).items
    return [items[i] for i in range(50)]


def _write_medqa(path: Path, items: list[Any]) -> list[str]:
    """The 50-line file; returns each line's verdict."""
    verdicts = []
    with path.open("w", encoding="utf-8") as fh:
        for idx, text, verdict in MEDQA_ROWS:
            fh.write(json.dumps({"id": items[idx].id, "output": _fill(text, items[idx].target)}) + "\n")
            verdicts.append(verdict)
    return verdicts


def _run(capsys, runs: Path, *args: str) -> tuple[int, str]:
    code, out, err = run_cli(["run", "--runs-dir", str(runs), "--no-report", *args], capsys)
    return code, out + err


def test_medqa_replay_reproduces_the_reference_number(medqa_items, tmp_path, capsys):
    assert [i for i, _, _ in MEDQA_ROWS] == list(range(50))
    assert medqa_items[7].choices["C"] == "Clopidogrel" and medqa_items[7].target == "C"
    assert medqa_items[45].choices["D"] == "Fomepizole" and medqa_items[45].target == "D"
    recorded = tmp_path / "medqa_outputs.jsonl"
    verdicts = _write_medqa(recorded, medqa_items)
    expected = verdicts.count(RIGHT) / 50  # 29 right of 50, from the hand labels
    assert verdicts.count(RIGHT) == 29 and verdicts.count(UNREAD) == 8

    code, out = _run(
        capsys,
        tmp_path / "runs",
        "-m",
        f"replay:{recorded}",
        "-b",
        "medqa",
        "--mode",
        "generate",
        "--limit",
        "50",
        "--no-cache",
    )
    assert code == 0, out
    folder = only_run(tmp_path / "runs")
    m = folder.read_metrics()["benchmarks"]["medqa"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(expected)
    assert (m["n_scored"], m["n_unparseable"], m["n_errors"]) == (50, verdicts.count(UNREAD), 0)
    by_id = {s.item.id: s for s in folder.iter_samples()}
    for (idx, text, verdict), item in zip(MEDQA_ROWS, medqa_items, strict=True):
        s = by_id[item.id]
        got = UNREAD if not s.score.parsed else (RIGHT if s.score.value == 1.0 else WRONG)
        assert got == verdict, (
            f"line {idx + 1}: {_fill(text, item.target)!r} -> {s.score.answer} ({s.score.explanation})"
        )
        (call,) = s.calls
        assert call.model.startswith("replay:medqa_outputs.jsonl@") and call.cost_usd == 0.0
        assert call.raw["medevals_replay"] == {"line": idx + 1}
    manifest = folder.read_manifest()
    import hashlib

    assert manifest.model.settings["sha256"] == hashlib.sha256(recorded.read_bytes()).hexdigest()
    assert manifest.model.backend == "replay" and m["usage"]["cost_usd"] == 0.0

    # rescoring needs neither the model nor the file
    shutil.move(recorded, tmp_path / "gone.jsonl")
    code, out, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, out + err
    assert folder.read_metrics()["benchmarks"]["medqa"]["metrics"]["accuracy"]["value"] == pytest.approx(
        expected
    )


def test_mirage_default_to_a_is_reproduced_only_when_asked(medqa_items, tmp_path, capsys):
    """MIRAGE's grader (locate_answer) scores an unreadable reply as "A"; --set unparseable_as=A
    reproduces that for a comparison, and the unreadable replies stay counted as unparseable."""
    recorded = tmp_path / "out.jsonl"
    verdicts = _write_medqa(recorded, medqa_items)
    unread_gold_a = sum(1 for (idx, _, v) in MEDQA_ROWS if v == UNREAD and medqa_items[idx].target == "A")
    expected = (verdicts.count(RIGHT) + unread_gold_a) / 50
    args = ["-m", f"replay:{recorded}", "-b", "medqa", "--mode", "generate", "--limit", "50", "--no-cache"]
    code, out = _run(capsys, tmp_path / "runs", *args, "--set", "unparseable_as=A")
    assert code == 0, out
    m = only_run(tmp_path / "runs").read_metrics()["benchmarks"]["medqa"]
    assert unread_gold_a == 2  # items 24 and 42... of the unreadable rows, those whose gold is A
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(expected)
    assert m["n_unparseable"] == verdicts.count(UNREAD)


def test_identical_prompts_get_their_own_recorded_answers_through_the_cache(tmp_path, capsys):
    """Two items with the same question and options are two units: the cache key carries the unit."""
    data = tmp_path / "set"
    data.mkdir()
    row = {
        "question": "Which is right?",
        "options": {"A": "one", "B": "two", "C": "three", "D": "four"},
        "answer": "B",
    }
    (data / "items.jsonl").write_text(
        json.dumps({"id": "x1", **row}) + "\n" + json.dumps({"id": "x2", **row}) + "\n", encoding="utf-8"
    )
    spec = data / "spec.yaml"
    spec.write_text(
        "name: twins\ndata: items.jsonl\nfields: {id: id, question: question, options: options, answer: answer}\n",
        encoding="utf-8",
    )
    recorded = tmp_path / "out.jsonl"
    recorded.write_text(
        json.dumps({"id": "x1", "output": "B"}) + "\n" + json.dumps({"id": "x2", "output": "C"}) + "\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache.db"
    for runs in ("r1", "r2"):
        code, out = _run(
            capsys, tmp_path / runs, "-m", f"replay:{recorded}", "-b", str(spec), "--cache", str(cache)
        )
        assert code == 0, out
        folder = only_run(tmp_path / runs)
        scores = {
            s.item.id: (s.score.answer, s.score.value, s.calls[0].cached) for s in folder.iter_samples()
        }
        cached = runs == "r2"
        assert scores == {"x1": ("B", 1.0, cached), "x2": ("C", 0.0, cached)}


def test_full_responses_repeats_and_variants(tmp_path, capsys):
    """A ``response`` line is used as recorded; repeat r is the r-th line of an (id, variant)."""
    data_dir()
    items = base.load(registry.get("demo")).items
    ids = [items[i].id for i in range(3)]
    gold = [items[i].target for i in range(3)]
    wrong = [next(x for x in LETTERS if x != g) for g in gold]

    def response(text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 3},
        }

    lines = []
    for i in range(3):
        lines.append({"id": ids[i], "variant": "zero-shot", "response": response(f"({gold[i]})")})
        lines.append({"id": ids[i], "variant": "zero-shot", "output": wrong[i]})  # repeat 1
        lines.append({"id": ids[i], "variant": "cot", "output": f"Thinking... the answer is ({wrong[i]})."})
        lines.append({"id": ids[i], "variant": "cot", "output": f"The answer is ({gold[i]})."})
    recorded = tmp_path / "out.jsonl"
    recorded.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    args = ["-m", f"replay:{recorded}", "-b", "demo", "--limit", "3", "--strategy", "zero-shot,cot"]
    code, out = _run(capsys, tmp_path / "runs", *args, "--repeats", "2", "--no-cache")
    assert code == 0, out
    folder = only_run(tmp_path / "runs")
    got = {(s.item.id, s.variant, s.repeat): s.score.value for s in folder.iter_samples()}
    for i in range(3):
        assert got[(ids[i], "zero-shot", 0)] == 1.0 and got[(ids[i], "zero-shot", 1)] == 0.0
        assert got[(ids[i], "cot", 0)] == 0.0 and got[(ids[i], "cot", 1)] == 1.0
    m = folder.read_metrics()["benchmarks"]["demo"]
    assert m["usage"]["prompt_tokens"] == 300  # the recorded usage of the three full responses


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        (
            [{"id": "demo-001", "output": "A"}],
            [],
            "no recorded output for 39 of 40 items of benchmark 'demo': 'demo-002', 'demo-003', 'demo-004', 'demo-005', 'demo-006' and 34 more",
        ),
        (['{"id": "demo-001", "output": "A"', {"id": "x", "output": "A"}], [], "out.jsonl:1: invalid JSON"),
        (
            [{"id": "demo-001", "output": "A"}, {"id": "demo-002"}],
            [],
            "out.jsonl:2: neither 'output' nor 'response'",
        ),
        ([{"id": "demo-001", "output": 3}], [], "out.jsonl:1: field 'output': expected a string, got int"),
        ([{"id": ["demo-001"], "output": "A"}], [], "out.jsonl:1: field 'id': expected str or int, got list"),
        (
            [{"id": "demo-001", "response": {"choices": []}}],
            [],
            "out.jsonl:1: field 'response': not a usable chat/completions response",
        ),
        (
            [{"id": "demo-001", "output": "A", "response": {}}],
            [],
            "out.jsonl:1: both 'output' and 'response'",
        ),
    ],
)
def test_bad_replay_files_are_one_line_errors_before_any_work(rows, extra, message, tmp_path, capsys):
    recorded = _write(tmp_path / "out.jsonl", rows)
    code, out = _run(
        capsys, tmp_path / "runs", "-m", f"replay:{recorded}", "-b", "demo", "--no-cache", *extra
    )
    assert code == 2
    assert message in " ".join(out.split())
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def _demo_file(tmp_path: Path, **extra: Any) -> Path:
    data_dir()
    items = base.load(registry.get("demo")).items
    return _write(
        tmp_path / "out.jsonl", [{"id": items[i].id, "output": "A", **extra} for i in range(len(items))]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--strategy", "sc3"],
            "replay does not apply to benchmark 'demo' variant 'sc3': strategy 'sc3' makes 3 model calls per item",
        ),
        (["--strategy", "perturb:typos"], "variant 'perturb:typos': 'perturb:typos' changes the question"),
        (["--mode", "likelihood"], "out.jsonl:1: field 'output': likelihood mode reads the option logprobs"),
        (
            ["--strategy", "zero-shot,cot"],
            "out.jsonl:1: field 'variant': missing; this run has variants zero-shot, cot",
        ),
        (
            ["--repeats", "2"],
            "out.jsonl:1: item 'demo-001' has 1 recorded output(s) for variant 'zero-shot' but the run has --repeats 2",
        ),
        (["-b", "demo,medqa"], "replay runs one benchmark at a time"),
    ],
)
def test_runs_replay_cannot_answer_are_refused_before_any_work(args, message, tmp_path, capsys):
    recorded = _demo_file(tmp_path)
    code, out = _run(capsys, tmp_path / "runs", "-m", f"replay:{recorded}", "-b", "demo", "--no-cache", *args)
    assert code == 2
    assert message in " ".join(out.split())


@pytest.mark.parametrize(
    ("bench", "args", "message"),
    [
        ("mediq-icraftmd", [], "a consultation makes several model turns"),
        ("medcalc", ["--tools", "calculators"], "with calculator tools the model makes several turns"),
        pytest.param("ehr-agent", [], "the EHR agent makes several model turns", marks=needs("fhir")),
    ],
)
def test_multi_turn_protocols_are_refused(bench, args, message, tmp_path, capsys):
    recorded = _demo_file(tmp_path)
    code, out = _run(capsys, tmp_path / "runs", "-m", f"replay:{recorded}", "-b", bench, "--no-cache", *args)
    assert code == 2, out
    assert f"replay does not apply to benchmark '{bench}'" in " ".join(out.split()) and message in out


def test_replay_cannot_be_a_judge(tmp_path, capsys):
    recorded = _demo_file(tmp_path)
    code, out = _run(
        capsys,
        tmp_path / "runs",
        "-m",
        "openai:x",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "-b",
        "cupcase",
        "--judge",
        f"replay:{recorded}",
    )
    assert code == 2 and "replay: answers the model under test only" in out


def _calc(answer: str, thinking: str = "Step by step, as the note gives.") -> str:
    """A reply in MedCalc-Bench's zero-shot format (the JSON its prompt asks for)."""
    return json.dumps({"step_by_step_thinking": thinking, "answer": answer})


# (item index in the test split, recorded reply, verdict by MedCalc-Bench's check_correctness:
# decimals within [Lower, Upper] inclusive, integer scores round(answer) == label with Python's
# half-to-even round, dates the same day, gestational age the same (weeks, days)).
MEDCALC_ROWS: list[tuple[int, str, str]] = [
    (0, _calc("25.238"), RIGHT),  # decimal 25.238 [23.9761, 26.4999]
    (1, _calc("36.1"), RIGHT),  # the lower limit itself
    (2, _calc("26.3"), WRONG),  # above the upper limit 26.26785
    (20, _calc("eGFR is 127.7 mL/min/1.73 m²"), RIGHT),  # the unit's 1.73 is not the answer
    (100, _calc("9.3 mg/dL", "Corrected calcium = 8.5 + 0.8 x (4 - 3.0) = 9.3 mg/dL."), RIGHT),
    (682, _calc("1.95 m²"), RIGHT),  # BSA 1.942 [1.8449, 2.0391]
    (486, _calc("12"), WRONG),  # anion gap 15 [14.25, 15.75]
    (551, _calc("0"), RIGHT),  # Framingham 0 [0, 0]
    (40, _calc("4"), RIGHT),  # integer 4
    (41, _calc("3.4"), RIGHT),  # round(3.4) == 3
    (42, _calc("7.5"), RIGHT),  # round(7.5) == 8 (half to even)
    (199, _calc("8.5"), RIGHT),  # Child-Pugh 8: round(8.5) == 8
    (384, _calc("8.5"), WRONG),  # Glasgow-Blatchford 9: round(8.5) == 8
    (219, _calc("-1"), RIGHT),  # Wells DVT -1
    (299, _calc("2 out of 5 criteria"), RIGHT),  # Centor 2: the count, not the denominator
    (300, _calc("N/A"), WRONG),  # an abstention on a numeric label
    (927, _calc("09/23/2014"), RIGHT),  # date
    (928, _calc("01/10/2007"), WRONG),  # one day off 01/09/2007
    (1032, _calc("(28, 4)"), RIGHT),  # gestational age ('28 weeks', '4 days')
    (1044, _calc("22 weeks 3 days"), WRONG),  # ('22 weeks', '2 days')
]


def test_medcalc_replay_reproduces_the_reference_number(tmp_path, capsys):
    data_dir()
    items = base.load(registry.get("medcalc")).items
    labels = {
        0: "25.238", 1: "38", 2: "25.017", 20: "127.718", 100: "9.32", 682: "1.942", 486: "15", 551: "0",
        40: "4", 41: "3", 42: "8", 199: "8", 384: "9", 219: "-1", 299: "2", 300: "1",
        927: "09/23/2014", 928: "01/09/2007", 1032: "('28 weeks', '4 days')", 1044: "('22 weeks', '2 days')",
    }  # fmt: skip
    assert {
        i: items[i].target["answer"] for i, _, _ in MEDCALC_ROWS
    } == labels  # the rows were labelled on these
    # Every other item of the split is recorded as an abstention, wrong on a numeric label by the
    # same rule: a replay run covers the whole split (a missing item is an error, by design).
    rows = {i: (text, verdict) for i, text, verdict in MEDCALC_ROWS}
    abstain = _calc("N/A")
    verdicts = []
    with (tmp_path / "medcalc_outputs.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(len(items)):
            text, verdict = rows.get(i, (abstain, WRONG))
            if i not in rows:
                assert items[i].target["answer"].upper() != "N/A"
            fh.write(json.dumps({"id": items[i].id, "output": text}) + "\n")
            verdicts.append(verdict)
    assert (verdicts.count(RIGHT), len(verdicts)) == (14, 1047)
    recorded = tmp_path / "medcalc_outputs.jsonl"
    code, out = _run(
        capsys, tmp_path / "runs", "-m", f"replay:{recorded}", "-b", "medcalc", "--no-cache", "-c", "64"
    )
    assert code == 0, out
    folder = only_run(tmp_path / "runs")
    m = folder.read_metrics()["benchmarks"]["medcalc"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(14 / 1047)
    assert (m["n_scored"], m["n_errors"]) == (1047, 0)
    by_id = {s.item.id: s for s in folder.iter_samples()}
    for i, text, verdict in MEDCALC_ROWS:
        s = by_id[items[i].id]
        assert (RIGHT if s.score.value == 1.0 else WRONG) == verdict, (
            f"{items[i].id}: {text} -> {s.score.answer}"
        )
