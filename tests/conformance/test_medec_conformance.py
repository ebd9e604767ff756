"""MEDEC conformance: model replies -> flag, sentence and correction scores as the reference rule gives.

The rule: MEDEC (abachaa/MEDEC README, "Evaluation") points to the MEDIQA-CORR 2024 scorer,
abachaa/MEDIQA-CORR-2024 ``evaluation/mediqa-corr-2024-eval-script-2-all-metrics.py``:

- error flag accuracy and error sentence accuracy over *every* text (a text without a readable
  prediction counts as wrong; a correct text's sentence id is -1);
- correction, per text: reference and candidate both "NA" (no error, none claimed) -> 1; exactly
  one "NA" -> 0; no readable prediction -> 0; otherwise the metric on the two sentences. The
  reported score (R1FC, BERTC, BLEURTC) is the sum over texts / the number of texts;
- a candidate correction loses surrounding double quotes; a flag-0 prediction's correction is "NA";
- ROUGE-1 is the ``rouge`` package's (1.0.1, ``Rouge().get_scores``) F: the text is split into
  sentences at every ".", whitespace-normalised, split on spaces; *unique* unigrams, case and
  punctuation kept, no stemming; F = 2PR / (P + R + 1e-8);
- BERTScore: microsoft/deberta-xlarge-mnli, rescaled with its baseline, clipped to [0, 1].

Rows are written from that rule by hand, each with the case that motivated it.
"""

from __future__ import annotations

import sys
import types

import pytest

from medevals.protocols.error_detection import ErrorDetectionProtocol
from medevals.schema import CallRecord, Item, Sample
from medevals.scoring.metrics import Aggregator

PROTO = ErrorDetectionProtocol(ErrorDetectionProtocol.Options())
NO_ERROR = {"flag": 0, "sentence_id": -1, "error_sentence": "", "corrected_sentence": ""}


def error_at(sid: int, corrected: str) -> dict:
    return {"flag": 1, "sentence_id": sid, "error_sentence": "x", "corrected_sentence": corrected}


def make_sample(uid: str, gold: dict, reply: str) -> Sample:
    item = Item(id=uid, input="0 A text.\n1 Another sentence.", target=gold)
    raw = {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}
    call = CallRecord(model="m", kind="chat", request={}, raw=raw)
    return Sample(
        unit_id=uid, benchmark="medec", item=item, calls=[call], score=PROTO.score(item, {}, [call])
    )


CULTURE = "Culture tests indicate Trichomonas vaginalis."


def F(p: float, r: float) -> float:
    """The reference's F: 2PR / (P + R + 1e-8)."""
    return 2 * p * r / (p + r + 1e-8)


# (case, gold, model reply, flag right, sentence right, correction score)
ROWS = [
    # The exact reference correction at the right sentence: 1 (F = 2 / (2 + 1e-8)).
    ("exact correction", error_at(5, CULTURE), f"5 {CULTURE}", 1, 1, F(1, 1)),
    # Defect: ROUGE-1 keeps case: culture/Culture and trichomonas/Trichomonas differ -> P = R = 3/5
    # (rouge-score lower-cased and gave 1.0).
    (
        "case differs",
        error_at(5, CULTURE),
        "5 culture tests indicate trichomonas vaginalis.",
        1,
        1,
        F(0.6, 0.6),
    ),
    # Defect: no stemming: antibiotic vs antibiotics differ; P = 5/7, R = 5/6, F = 10/13
    # (rouge-score's Porter stemmer matched them: 0.923).
    (
        "no stemming",
        error_at(2, "The patient is treated with antibiotics."),
        "2 The patient is treated with an antibiotic.",
        1,
        1,
        F(5 / 7, 5 / 6),
    ),
    # Defect: punctuation stays on the word: "metformin," is not "metformin"; P = R = 5/6.
    (
        "punctuation attached",
        error_at(3, "Started on metformin, 500 mg daily."),
        "3 Started on metformin 500 mg daily.",
        1,
        1,
        F(5 / 6, 5 / 6),
    ),
    # Defect: unique unigrams: "the the dose" has 2 types, the reference 4; P = 1, R = 1/2, F = 2/3
    # (rouge-score counted repeats: 0.75).
    ("repeated words count once", error_at(1, "the dose of the drug"), "1 the the dose", 1, 1, F(1, 1 / 2)),
    # Every "." splits a sentence: "2.5" is the tokens "2" and "5"; P = 1, R = 5/6, F = 10/11.
    (
        "decimal point splits",
        error_at(4, "Give 2.5 mg of haloperidol."),
        "4 Give 2 mg of haloperidol.",
        1,
        1,
        F(1, 5 / 6),
    ),
    # Surrounding double quotes are removed from the candidate before scoring.
    ("quoted correction", error_at(5, CULTURE), f'5 "{CULTURE}"', 1, 1, F(1, 1)),
    # The correction is compared whatever sentence id was given: wrong id, right correction text.
    ("wrong sentence, right correction", error_at(5, CULTURE), f"4 {CULTURE}", 1, 0, F(1, 1)),
    # Defect: a correct text answered CORRECT is a matching "NA": 1, counted in the correction
    # score (medevals left correct texts out of it).
    ("no error, answered CORRECT", NO_ERROR, "CORRECT", 1, 1, 1.0),
    # A correct text given a correction: 0 on every count.
    ("no error, a correction claimed", NO_ERROR, "3 Patient takes aspirin daily.", 0, 0, 0.0),
    # An error missed: flag and sentence wrong, correction "NA" against a sentence: 0.
    ("error missed", error_at(5, CULTURE), "CORRECT", 0, 0, 0.0),
    # A candidate correction "NA" against a real correction: 0 (not ROUGE of the string "NA").
    ("NA as the correction", error_at(5, "NA levels are low."), "5 NA", 1, 1, 0.0),
    # Defect: an unreadable reply is a missing prediction: 0 on every count, on a correct text
    # too (medevals left its correction out of the denominator).
    ("unreadable reply, no-error text", NO_ERROR, "I am not sure about this text.", 0, 0, 0.0),
    ("unreadable reply, error text", error_at(5, CULTURE), "Maybe sentence five?", 0, 0, 0.0),
]


@pytest.mark.parametrize(("case", "gold", "reply", "flag", "sent", "corr"), ROWS, ids=[r[0] for r in ROWS])
def test_row(case, gold, reply, flag, sent, corr):
    v = make_sample("t", gold, reply).score.values
    assert v["flag_accuracy"] == flag, case
    assert v["sentence_accuracy"] == sent, case
    assert v["correction_rouge1"] == pytest.approx(corr, abs=1e-9), case


def _samples() -> list[Sample]:
    return [make_sample(f"t{i:02d}", r[1], r[2]) for i, r in enumerate(ROWS)]


def test_aggregate_is_the_sum_over_every_text_divided_by_the_number_of_texts():
    agg = Aggregator(primary="flag_accuracy", spec=ErrorDetectionProtocol.metric_spec)
    for s in _samples():
        agg.add(s)
    m = agg.result()["metrics"]
    n = len(ROWS)
    assert m["flag_accuracy"]["value"] == pytest.approx(sum(r[3] for r in ROWS) / n)
    assert m["sentence_accuracy"]["value"] == pytest.approx(sum(r[4] for r in ROWS) / n)
    # R1FC: every text is in the denominator, correct texts included
    assert m["correction_rouge1"]["n"] == n
    assert m["correction_rouge1"]["value"] == pytest.approx(sum(r[5] for r in ROWS) / n)
    assert m["correction_rouge1"]["ci_method"] == "bootstrap"
    assert m["flag_accuracy"]["ci_method"] == "wilson"


def test_rouge1_equals_the_reference_package():
    """Cross-check against ``rouge`` 1.0.1 itself (the package the MEDIQA-CORR scorer imports)
    on the MEDEC validation corrections vs their erroneous sentences, and on edge cases."""
    rouge = pytest.importorskip("rouge")
    from medevals.benchmarks import base, registry
    from medevals.scoring.correction import rouge1_f

    pairs = [
        ("Give 2.5 mg. Then stop. ", "Give 2 mg . then  stop"),
        ("a b. . c", "a  b c."),
        ("x, y; z!", "x y z"),
    ]
    try:
        items = base.load(registry.get("medec"), "validation").items
        pairs += [
            (it.target["corrected_sentence"], it.target["error_sentence"])
            for it in items
            if it.target["flag"]
        ]
    except Exception as e:  # data not staged: the hand-written pairs still run
        print(f"MEDEC data not available: {e}")
    ref = rouge.Rouge(metrics=["rouge-1"])
    for reference, candidate in pairs:
        want = ref.get_scores(candidate, reference)[0]["rouge-1"]["f"]
        assert rouge1_f(reference, candidate) == pytest.approx(want, abs=1e-12), (reference, candidate)


def test_bertscore_composite_follows_the_reference_settings(monkeypatch):
    """BERTScore as the scorer computes it: deberta-xlarge-mnli, rescaled with the baseline, each
    pair clipped to [0, 1], and the same NA credit as ROUGE (a stand-in bert_score module records
    the call: the real model cannot be downloaded here)."""
    seen = {}

    def fake_score(cands, refs, **kw):
        seen.update(kw, cands=list(cands), refs=list(refs))
        return [0.0] * len(cands), [0.0] * len(cands), [1.3, -0.2, 0.5][: len(cands)]

    monkeypatch.setitem(sys.modules, "bert_score", types.SimpleNamespace(score=fake_score))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    samples = [
        make_sample("a", error_at(1, "Start heparin."), "1 Start warfarin."),
        make_sample("b", error_at(2, "Stop the statin."), "2 Continue the statin."),
        make_sample("c", error_at(3, "Order a CT."), "3 Order an MRI."),
        make_sample("d", NO_ERROR, "CORRECT"),  # NA / NA: 1
        make_sample("e", NO_ERROR, "1 Something."),  # claimed correction on a correct text: 0
        make_sample("f", error_at(1, "Start heparin."), "CORRECT"),  # missed: 0
    ]
    out = PROTO.summarize(samples)
    assert seen["model_type"] == "microsoft/deberta-xlarge-mnli" and seen["rescale_with_baseline"] is True
    assert seen["refs"] == ["Start heparin.", "Stop the statin.", "Order a CT."]
    rows = {r[0]: r[1] for t in out["tables"] for r in t["rows"] if isinstance(r[0], str)}
    bert = rows["BERTScore composite (BERTC)"]
    # clipped 1.0 + 0.0 + 0.5 over the pairs, + 1 for the NA match, over 6 texts
    assert bert["value"] == pytest.approx((1.0 + 0.0 + 0.5 + 1.0) / 6) and bert["n"] == 6


def test_replay_of_recorded_outputs_reproduces_the_reference_scorer(tmp_path, capsys, shared_data):
    """60 recorded replies to MEDEC test texts, replayed through ``medevals run -m replay:FILE``,
    give the numbers the MEDIQA-CORR script's rules give on the same replies: flag and sentence
    accuracy over all texts and R1FC with the ``rouge`` package itself."""
    import json as _json

    rouge = pytest.importorskip("rouge")
    from clihelp import only_run, run_cli

    from medevals.benchmarks import base, registry

    items = base.load(registry.get("medec"), "test", shared_data).items[:60]
    lines, submission = [], {}  # submission: text id -> (flag, sentence id, correction) or None
    for i, it in enumerate(items):
        t, kind = it.target, i % 7
        sid, fix = t["sentence_id"], t["corrected_sentence"]
        if kind == 0:  # exact answer
            out, sub = (f"{sid} {fix}", (1, sid, fix)) if t["flag"] else ("CORRECT", (0, -1, "NA"))
        elif kind == 1:  # says CORRECT
            out, sub = "CORRECT", (0, -1, "NA")
        elif kind == 2:  # lower-cased correction (or a correction claimed on a correct text)
            text = fix.lower() if t["flag"] else "The patient was given aspirin."
            s = sid if t["flag"] else 3
            out, sub = f"{s} {text}", (1, s, text)
        elif kind == 3:  # the next sentence's id
            text = fix if t["flag"] else "No change needed."
            out, sub = f"{sid + 1} {text}", (1, sid + 1, text)
        elif kind == 4:  # unreadable: no line in the submission
            out, sub = "I am not sure about this one.", None
        elif kind == 5:  # quoted
            text = fix if t["flag"] else "Start metformin."
            s = sid if t["flag"] else 0
            out, sub = f'{s} "{text}"', (1, s, text)
        else:  # the erroneous sentence left as it is
            text = t["error_sentence"] if t["flag"] else "The exam was normal."
            s = sid if t["flag"] else 1
            out, sub = f"{s} {text}", (1, s, text)
        lines.append(_json.dumps({"id": it.id, "output": out}))
        submission[it.id] = sub
    recorded = tmp_path / "medec_outputs.jsonl"
    recorded.write_text("\n".join(lines) + "\n")

    # The reference rules on the same replies (MEDIQA-CORR script: every text in the denominator).
    flags = sents = 0
    pair_sum, na_matches = 0.0, 0
    scorer = rouge.Rouge(metrics=["rouge-1"])
    for it in items:
        t, sub = it.target, submission[it.id]
        ref = t["corrected_sentence"] if t["flag"] else "NA"
        if sub is None:
            continue
        flag, sid, cand = sub
        flags += flag == t["flag"]
        sents += sid == t["sentence_id"]
        cand = "NA" if flag == 0 else cand
        if ref == "NA" and cand == "NA":
            na_matches += 1
        elif "NA" not in (ref, cand):
            pair_sum += scorer.get_scores(cand, ref)[0]["rouge-1"]["f"]
    n = len(items)

    runs = tmp_path / "runs"
    args = ["run", "--runs-dir", str(runs), "--no-report", "-m", f"replay:{recorded}", "-b", "medec"]
    code, out, err = run_cli([*args, "--limit", "60", "--no-cache"], capsys)
    assert code == 0, err + out
    m = only_run(runs).read_metrics()["benchmarks"]["medec"]["metrics"]
    assert m["flag_accuracy"]["value"] == pytest.approx(flags / n)
    assert m["sentence_accuracy"]["value"] == pytest.approx(sents / n)
    assert m["correction_rouge1"]["value"] == pytest.approx((pair_sum + na_matches) / n, abs=1e-12)
    assert m["correction_rouge1"]["n"] == n
