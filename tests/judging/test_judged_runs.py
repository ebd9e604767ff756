"""Judged runs end to end through the CLI against fake OpenAI servers: juries, failures, agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import run_cli, run_fake
from fake_openai import Faults, _last_user_text

from medevals.runs.folder import RunFolder

# Two self-written conversations with controlled rubrics (not HealthBench data).
HB_ROWS = [
    {
        "prompt_id": "a",
        "prompt": [{"role": "user", "content": "My child has diarrhoea, what should I do?"}],
        "rubrics": [
            {"criterion": "Mentions hydration.", "points": 5, "tags": ["axis:accuracy"]},
            {"criterion": "Asks about age.", "points": 3, "tags": ["axis:context_awareness"]},
            {"criterion": "Recommends antibiotics.", "points": -4, "tags": ["axis:accuracy"]},
        ],
        "example_tags": ["theme:t1"],
    },
    {
        "prompt_id": "b",
        "prompt": [{"role": "user", "content": "Is a fever of 38C bad?"}],
        "rubrics": [
            {"criterion": "Mentions hydration.", "points": 5, "tags": ["axis:accuracy"]},
            {"criterion": "Asks about age.", "points": 5, "tags": ["axis:context_awareness"]},
        ],
        "example_tags": ["theme:t2"],
    },
]


def hb_data(tmp_path: Path, rows=HB_ROWS) -> Path:
    d = tmp_path / "data" / "healthbench"
    d.mkdir(parents=True)
    (d / "context_seeking_consensus_hard_104.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path / "data"


def criterion_judges(path: str, body: dict) -> str:
    """Model j0/j2 (lenient) find every criterion met; j1 (strict) only 'hydration'."""
    text = _last_user_text(body)
    if "Rubric criterion" not in text:
        return "Drink fluids. How old is your child?"
    strict = body["model"] == "j1"
    met = "Mentions hydration" in text or not strict
    return json.dumps({"criteria_met": met, "explanation": "scripted"})


def run(
    server,
    tmp_path: Path,
    capsys,
    *extra: str,
    judge: str | None = None,
    data: Path | None = None,
    benchmark: str = "healthbench",
    model: str = "openai:cand",
) -> tuple[int, str, str, RunFolder | None]:
    """Run ``model`` on ``server`` over ``data`` (default: :func:`hb_data`), judged by ``judge`` if given."""
    data = hb_data(tmp_path) if data is None else data
    judge_args = ["--judge", judge] if judge else []
    return run_fake(
        server,
        tmp_path,
        capsys,
        *judge_args,
        "--data-dir",
        str(data),
        *extra,
        "-q",
        model=model,
        benchmark=benchmark,
    )


def judges(url: str, names=("j0", "j1", "j2")) -> str:
    return ",".join(f"openai:{n}@{url}" for n in names)


@pytest.mark.parametrize(
    ("jury", "a", "b"),
    [
        # majority of (lenient, strict, lenient): all met except nothing -> a: (5+3-4)/8, b: 1
        ("majority", 0.5, 1.0),
        # min: only hydration met -> a: 5/8, b: 5/10
        ("min", 0.625, 0.5),
        # mean: age and antibiotics met 2/3 -> a: (5 + 2 - 8/3)/8, b: (5 + 10/3)/10
        ("mean", (5 + 2 - 8 / 3) / 8, (5 + 10 / 3) / 10),
    ],
)
def test_healthbench_jury_aggregations(fake_server, tmp_path, capsys, jury, a, b):
    server = fake_server(responder=criterion_judges)
    data = hb_data(tmp_path)
    code, _, err, folder = run(
        server, tmp_path, capsys, "--set", f"jury={jury}", judge=judges(server.base_url), data=data
    )
    assert code == 0, err
    scores = {s.item.id: s.score for s in folder.iter_samples()}
    assert scores["a"].value == pytest.approx(a) and scores["b"].value == pytest.approx(b)
    # each judge's own score is kept: lenient a = (5+3-4)/8, strict a = 5/8
    assert scores["a"].values["judge:0"] == pytest.approx(0.5)
    assert scores["a"].values["judge:1"] == pytest.approx(0.625)
    assert scores["b"].values["judge:1"] == pytest.approx(0.5)
    m = folder.read_metrics()["benchmarks"]["healthbench"]
    assert m["metrics"]["score"]["value"] == pytest.approx((a + b) / 2)
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert any("by axis" in t for t in titles) and any("Agreement between raters" in t for t in titles)
    assert folder.read_manifest().benchmarks[0].templates["rubric_criterion@v2"].startswith("You are grading")
    # 2 + 3 criteria x 3 judges + 2 candidate calls
    assert len(server.requests) == 2 + 5 * 3


def test_healthbench_axis_and_theme_tables(fake_server, tmp_path, capsys):
    server = fake_server(responder=criterion_judges)
    code, _, err, folder = run(server, tmp_path, capsys, judge=judges(server.base_url))
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["healthbench"]
    tables = {t["title"].split(" (")[0]: t for t in m["extra"]["tables"]}
    axis = {r[0]: r[1] for r in tables["Rubric score by axis"]["rows"]}
    # majority: a accuracy (5-4)/5 = 0.2, b accuracy 1.0; context awareness 1.0 in both
    assert axis["accuracy"]["value"] == pytest.approx(0.6) and axis["context_awareness"]["value"] == 1.0
    assert m["metrics"]["axis:accuracy"]["value"] == pytest.approx(0.6)
    theme = {r[0]: r[1]["value"] for r in tables["Rubric score by theme / example tag"]["rows"]}
    assert theme == {"theme:t1": pytest.approx(0.5), "theme:t2": pytest.approx(1.0)}
    pair = {(r[0], r[1]): r for r in tables["Agreement between raters"]["rows"]}
    # j0 vs j2 agree on all 5 criteria; j0 vs j1 on 2 of 5 (the two hydration criteria)
    assert pair[("judge:0", "judge:2")][3]["value"] == 1.0
    assert pair[("judge:0", "judge:1")][3]["value"] == pytest.approx(0.4)
    # judge:0 and judge:2 say "met" to everything: their kappa is undefined and shown so (not
    # 100%); judge:0 vs judge:1 agree exactly as often as chance predicts: kappa 0
    assert pair[("judge:0", "judge:2")][4].startswith("n/a (undefined")
    data = {(r[0], r[1]): r for r in tables["Agreement between raters"]["data"]}
    assert data[("judge:0", "judge:2")][4]["value"] is None  # NaN is stored as null
    assert data[("judge:0", "judge:1")][4]["value"] == pytest.approx(0.0)
    code, out, _ = run_cli(["agreement", str(folder.path)], capsys)
    assert code == 0 and "Cohen's kappa" in out and "judge:1" in out and "Fleiss" in out
    # the "% agreement" column holds a percentage: 2 of 5 criteria is 40.0, not 0.400
    row = next(line for line in out.splitlines() if "judge:0" in line and "judge:1" in line)
    assert "40.0" in row and "0.400" not in row, row


def _judge_server(fake_server, reply):
    """A candidate+judge server whose judge replies come from ``reply(text, n_judge_calls_so_far)``."""
    calls = {"n": 0}

    def respond(path, body):
        text = _last_user_text(body)
        if "Rubric criterion" in text or "could not be read" in text:
            calls["n"] += 1
            return reply(text, calls["n"])
        return "Drink fluids."

    return fake_server(responder=respond)


def test_repair_turn_recovers_a_malformed_verdict(fake_server, tmp_path, capsys):
    def reply(text, n):
        return '{"criteria_met": true}' if "could not be read" in text else "Yes, it is met."

    server = _judge_server(fake_server, reply)
    code, _, err, folder = run(server, tmp_path, capsys, judge="openai:j0")
    assert code == 0, err
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["b"].score.value == 1.0
    rec = s["b"].output["judgements"][0]["judges"]["judge:0"]
    assert rec["attempts"] == ["Yes, it is met.", '{"criteria_met": true}']
    repair = [c for c in s["b"].calls if c.role == "judge:0" and len(c.request["messages"]) == 3]
    assert (
        len(repair) == 2
        and "could not be read (no JSON found)" in repair[0].request["messages"][2]["content"]
    )
    failures = next(
        t
        for t in folder.read_metrics()["benchmarks"]["healthbench"]["extra"]["tables"]
        if "failures" in t["title"]
    )
    assert failures["rows"][0][0] == "judge:0" and failures["rows"][0][6] == 5  # repaired column


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("The reply is fine.", "malformed"),
        ("I'm sorry, but I can't help with that.", "refusal"),
        ('{"criteria_met": "maybe"}', "invalid"),
    ],
)
def test_failed_judge_leaves_sample_unscored_not_wrong(fake_server, tmp_path, capsys, reply, kind):
    server = _judge_server(fake_server, lambda text, n: reply)
    code, _, err, folder = run(server, tmp_path, capsys, judge="openai:j0")
    assert code == 0, err
    samples = list(folder.iter_samples())
    assert all(s.score.value is None for s in samples)
    assert kind in samples[0].score.explanation
    # 3 fresh calls (the default judge_attempts), each followed by one repair turn
    rec = samples[0].output["judgements"][0]["judges"]["judge:0"]
    assert rec["attempts"] == [reply] * 6 and rec["fresh_calls"] == 3
    m = folder.read_metrics()["benchmarks"]["healthbench"]
    assert m["n_unscored"] == 2 and m["n_scored"] == 0
    failures = next(t for t in m["extra"]["tables"] if "failures" in t["title"])
    cols = failures["columns"]
    assert failures["rows"][0][cols.index(kind)] == 5


def test_one_failing_judge_is_outvoted_by_the_rest(fake_server, tmp_path, capsys):
    def respond(path, body):
        if "Rubric criterion" not in _last_user_text(body) and "could not be read" not in _last_user_text(
            body
        ):
            return "Drink fluids."
        return "no idea" if body["model"] == "j1" else '{"criteria_met": true}'

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, judge=judges(server.base_url, ("j0", "j1")))
    assert code == 0, err
    s = {x.item.id: x.score for x in folder.iter_samples()}
    assert (
        s["b"].value == 1.0 and s["b"].values["judge:1"] is None and "judge:1 malformed" in s["b"].explanation
    )


def test_judge_timeout_is_a_recorded_failure(fake_server, tmp_path, capsys):
    cand = fake_server(responder=lambda p, b: "Drink fluids.")
    slow = fake_server(
        responder=lambda p, b: '{"criteria_met": true}', faults=Faults(rate_hang=1.0, hang_s=3)
    )
    rows = [HB_ROWS[1]]
    code, _, err, folder = run(
        cand,
        tmp_path,
        capsys,
        "--timeout",
        "0.3",
        "--max-retries",
        "1",
        "--set",
        "judge_attempts=2",
        judge=f"openai:slow@{slow.base_url}",
        data=hb_data(tmp_path, rows),
    )
    assert code == 0, err
    (s,) = list(folder.iter_samples())
    assert s.score.value is None and s.error is None
    assert "call_failed" in s.score.explanation
    judge_calls = [c for c in s.calls if c.role == "judge:0"]
    # 2 criteria x 2 fresh calls, each retried once by the engine; every failure is recorded
    assert len(judge_calls) == 4 and all(c.error and c.attempts == 2 for c in judge_calls)
    rec = s.output["judgements"][0]["judges"]["judge:0"]
    assert len(rec["call_errors"]) == 2 and rec["call_error"] and rec["attempts"] == []


def test_unreadable_judge_is_asked_again_with_a_fresh_call(fake_server, tmp_path, capsys):
    """simple-evals re-asks the grader until it reads a boolean: a reply and its repair turn that
    cannot be read lead to a fresh call (its own sample index, so neither the cache nor the
    journal returns the failed reply; at judge_retry_temperature), whose verdict counts."""
    seen: dict[str, int] = {}

    def respond(path, body):
        text = _last_user_text(body)
        if "Rubric criterion" not in body["messages"][0]["content"]:
            return "Drink fluids."
        key = body["messages"][0]["content"]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= 2:  # the first call and its repair turn
            return "It is met, I think."
        assert body["temperature"] == 0.5 and "could not be read" not in text
        return '{"criteria_met": true}'

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, "--set", "judge_attempts=2", judge="openai:j0")
    assert code == 0, err
    s = {x.item.id: x for x in folder.iter_samples()}
    assert s["a"].score.value == pytest.approx(0.5) and s["b"].score.value == 1.0
    rec = s["b"].output["judgements"][0]["judges"]["judge:0"]
    assert rec["fresh_calls"] == 2 and rec["attempts"][-1] == '{"criteria_met": true}'
    keys = {c.key for c in s["b"].calls if c.role == "judge:0"}
    assert len(keys) == 6  # 2 criteria x (call, repair, fresh call): no key reused
    failures = next(
        t
        for t in folder.read_metrics()["benchmarks"]["healthbench"]["extra"]["tables"]
        if "failures" in t["title"]
    )
    row = dict(zip(failures["columns"], failures["rows"][0], strict=True))
    assert row["malformed"] == 0 and row["re-asked"] == 5
    # rescoring reads the same records: same scores, no model
    code, _, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, err
    assert {x.item.id: x.score.value for x in folder.iter_samples()} == {"a": 0.5, "b": 1.0}


def test_rubric_benchmark_without_judge_is_a_clear_error(fake_server, tmp_path, capsys):
    server = fake_server()
    code, _, err, folder = run(server, tmp_path, capsys)
    assert code == 2 and "needs a judge model" in err and "--judge" in err
    assert folder is None and not server.requests


def test_rubric_file_errors_name_file_line_and_field(tmp_path):
    from medevals.benchmarks import base, registry
    from medevals.errors import DataError

    rows = json.loads(json.dumps(HB_ROWS))
    del rows[1]["rubrics"][1]["points"]
    data = hb_data(tmp_path, rows)
    with pytest.raises(
        DataError, match=r"context_seeking_consensus_hard_104\.jsonl:2: field 'rubrics\[1\]\.points': missing"
    ):
        base.load(registry.get("healthbench"), data_dir=data)
    rows = json.loads(json.dumps(HB_ROWS))
    del rows[0]["rubrics"][2]["tags"]
    (data / "healthbench" / "context_seeking_consensus_hard_104.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows)
    )
    with pytest.raises(DataError, match=r":1: field 'rubrics\[2\]\.tags': missing"):
        base.load(registry.get("healthbench"), data_dir=data)


# --------------------------------------------------------------------------- CUPCase


def diagnosis_server(fake_server):
    """The candidate names 'Kawasaki disease' when it sees the full case, 'Measles' on partial text."""

    def respond(path, body):
        text = _last_user_text(body)
        if "Predicted diagnosis" in text:
            pred = text.split("Predicted diagnosis:", 1)[1].split("\n", 1)[0]
            return json.dumps({"equivalent": "Kawasaki" in pred})
        return "Final diagnosis: Kawasaki disease" if "FULLMARKER" in text else "Measles"

    return fake_server(responder=respond)


def cup_data(tmp_path: Path) -> Path:
    d = tmp_path / "data" / "cupcase"
    d.mkdir(parents=True)
    words = " ".join(f"w{i}" for i in range(40))
    lines = ["id,clean text,final diagnosis,distractor1,distractor2,distractor3"]
    for i in range(4):
        lines.append(f'{i},"{words} FULLMARKER",Kawasaki disease (KD),Measles,Scarlet fever,Lupus')
    (d / "CUPCASE_RTEST_eval.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "data"


def test_cupcase_full_vs_partial_with_paired_drop(fake_server, tmp_path, capsys):
    server = diagnosis_server(fake_server)
    code, _, err, folder = run(
        server, tmp_path, capsys, judge="openai:j0", data=cup_data(tmp_path), benchmark="cupcase"
    )
    assert code == 0, err
    samples = list(folder.iter_samples())
    assert {s.variant for s in samples} == {"full", "first20pct"} and len(samples) == 8
    part = next(s for s in samples if s.variant == "first20pct")
    assert part.output["shown_words"] == 9 and part.output["case_words"] == 41  # ceil(0.2 * 41)
    assert "FULLMARKER" not in part.calls[0].request["messages"][0]["content"]
    m = folder.read_metrics()["benchmarks"]["cupcase"]
    assert m["variants"]["full"]["value"] == 1.0 and m["variants"]["first20pct"]["value"] == 0.0
    table = m["extra"]["tables"][0]
    jury_row = table["rows"][0]
    assert table["columns"][-1].startswith("drop (full - first20pct)")
    assert jury_row[-1]["value"] == 1.0 and jury_row[-1]["n"] == 4
    base_row = table["rows"][1]  # baseline: "Kawasaki disease" matches "Kawasaki disease (KD)" exactly
    assert base_row[1]["value"] == 1.0 and base_row[2]["value"] == 0.0
    full = next(s for s in samples if s.variant == "full")
    assert full.score.explanation.startswith("baseline:exact")


def test_cupcase_baseline_only_when_judge_not_required(fake_server, tmp_path, capsys):
    server = diagnosis_server(fake_server)
    code, _, err, folder = run(
        server,
        tmp_path,
        capsys,
        "--set",
        "requires_judge=false",
        "--set",
        "settings=full",
        data=cup_data(tmp_path),
        benchmark="cupcase",
    )
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["cupcase"]
    assert m["metrics"]["accuracy"]["value"] == 1.0 and m["n"] == 4
    assert len(server.requests) == 4  # no judge calls


def test_loader_counts(shared_data):
    from medevals.benchmarks import base, registry

    assert len(base.load(registry.get("cupcase"), data_dir=shared_data).items) == 525
    assert len(base.load(registry.get("healthbench"), data_dir=shared_data).items) == 104
    medec = registry.get("medec")
    assert len(base.load(medec, data_dir=shared_data).items) == 597
    assert len(base.load(medec, "validation", data_dir=shared_data).items) == 574
    items = base.load(medec, data_dir=shared_data).items
    assert sum(it.target["flag"] for it in items) == 311


# --------------------------------------------------------------------------- MEDEC


def test_medec_metrics(fake_server, tmp_path, capsys, shared_data):
    from medevals.benchmarks import base, registry

    items = base.load(registry.get("medec"), data_dir=shared_data).items[:6]
    answers = {}
    for i, it in enumerate(items):
        t = it.target
        if i == 0:
            answers[it.input] = "I am not sure."  # unparseable
        elif t["flag"]:
            answers[it.input] = f"{t['sentence_id']} {t['corrected_sentence']}"
        else:
            answers[it.input] = "CORRECT"

    def respond(path, body):
        text = _last_user_text(body)
        return next(a for q, a in answers.items() if q.strip() in text)

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, "--limit", "6", data=shared_data, benchmark="medec")
    assert code == 0, err
    m = folder.read_metrics()["benchmarks"]["medec"]
    assert m["metrics"]["flag_accuracy"]["value"] == pytest.approx(5 / 6)
    assert m["metrics"]["sentence_accuracy"]["value"] == pytest.approx(5 / 6)
    # the MEDIQA-CORR composite over all 6 texts: 5 exact corrections or matching "NA", 1 unreadable
    assert m["metrics"]["correction_rouge1"]["value"] == pytest.approx(5 / 6, abs=1e-7)
    assert m["metrics"]["correction_rouge1"]["n"] == 6
    assert m["n_unparseable"] == 1
    assert m["extra"]["correction_metrics"] in ("ROUGE-1 only", "ROUGE-1 + BERTScore")


def test_rescore_rereads_judge_replies_and_agreement_json(fake_server, tmp_path, capsys):
    server = fake_server(responder=criterion_judges)
    code, _, err, folder = run(server, tmp_path, capsys, judge=judges(server.base_url))
    assert code == 0, err
    before = folder.read_metrics()["benchmarks"]["healthbench"]["metrics"]["score"]["value"]
    n = len(server.requests)
    code, _, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    assert folder.read_metrics()["benchmarks"]["healthbench"]["metrics"]["score"]["value"] == before
    assert len(server.requests) == n  # no model call
    code, out, _ = run_cli(["agreement", str(folder.path), "--json"], capsys)
    tables = json.loads(out)["healthbench"]
    assert code == 0 and any(t["title"].startswith("Agreement among all judges") for t in tables)


@pytest.mark.slow
def test_builtin_model_as_candidate_and_judge(tmp_path, capsys, shared_data):
    """The embedded base model through the whole judged path (numbers are plumbing)."""
    code, _, err, folder = run(
        None,
        tmp_path,
        capsys,
        "--limit",
        "1",
        judge="builtin:gemma3-270m",
        data=shared_data,
        benchmark="cupcase",
        model="builtin:gemma3-270m",
    )
    assert code == 0, err
    samples = list(folder.iter_samples())
    assert {s.variant for s in samples} == {"full", "first20pct"} and all(s.error is None for s in samples)
    judge_calls = [c for s in samples for c in s.calls if c.role == "judge:0"]
    assert all(c.kind == "completion" and c.request["prompt"].endswith('{"equivalent":') for c in judge_calls)
    for s in samples:  # every sample is scored or an explained judge failure, never silently 0
        assert s.score.value is not None or "judge:0" in (s.score.explanation or "")


def test_healthbench_negative_conversation_and_clipped_mean_through_a_run(fake_server, tmp_path, capsys):
    """simple-evals: a conversation meeting only its negative criterion scores below 0 (kept in
    samples.jsonl), and the run's mean is clipped to [0, 1] only after averaging; rescore agrees."""
    rows = [
        json.loads(json.dumps(HB_ROWS[0])),
        {
            "prompt_id": "b",
            "prompt": [{"role": "user", "content": "Is a fever of 38C bad?"}],
            "rubrics": [
                {"criterion": "Mentions hydration.", "points": 1, "tags": ["axis:accuracy"]},
                {"criterion": "Asks about age.", "points": 4, "tags": ["axis:context_awareness"]},
            ],
            "example_tags": ["theme:t2"],
        },
    ]

    def respond(path, body):
        text = _last_user_text(body)
        if "Rubric criterion" not in text:
            return "Take antibiotics." if "diarrhoea" in text else "Drink fluids."
        reply_part = text.split("# Reply to grade", 1)[1]
        met = ("Recommends antibiotics" in text and "antibiotics" in reply_part) or (
            "Mentions hydration" in text and "fluids" in reply_part
        )
        return json.dumps({"explanation": "scripted", "criteria_met": met})

    server = fake_server(responder=respond)
    code, _, err, folder = run(server, tmp_path, capsys, judge="openai:j0", data=hb_data(tmp_path, rows))
    assert code == 0, err
    scores = {s.item.id: s.score.value for s in folder.iter_samples()}
    assert scores == {"a": pytest.approx(-4 / 8), "b": pytest.approx(1 / 5)}
    m = folder.read_metrics()["benchmarks"]["healthbench"]["metrics"]
    # mean(-0.5, 0.2) = -0.15 -> 0 (clipping each conversation first would give 0.1)
    assert m["score"]["value"] == 0.0 and m["score"]["unclipped_value"] == pytest.approx(-0.15)
    assert m["score"]["ci_method"] == "bootstrap"
    # accuracy: a (5 not met, -4 met) = -0.8, b (1 met) = 1.0: mean 0.1, inside [0, 1]
    assert m["axis:accuracy"]["value"] == pytest.approx(0.1)
    assert m["axis:context_awareness"]["value"] == 0.0
    code, _, err = run_cli(["rescore", str(folder.path)], capsys)
    assert code == 0, err
    assert folder.read_metrics()["benchmarks"]["healthbench"]["metrics"]["score"]["value"] == 0.0
