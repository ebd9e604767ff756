"""Conformance table for MedCalc-Bench scoring (``scoring/calc_answer.py`` through the ``calc`` protocol).

Reference rules, written from the public graders (read, not copied):

- original labels: ``ncbi-nlp/MedCalc-Bench@evaluation/run.py`` ``extract_answer`` (the answer is
  the last ``"answer": ...`` field; integer rows: a number before "out of", else the last number)
  and ``evaluation/evaluate.py`` ``check_correctness`` (decimals within [Lower Limit, Upper Limit];
  integer rows ``round(answer) == label``, Python's round, half to even; dates the same calendar
  date; gestational age the same (weeks, days));
- corrected labels: ``junzeye/validate-medcalc-labels@verl/utils/reward_score/medcalc.py``
  ``compute_score`` (every answer within the row's [Lower Limit, Upper Limit], which are ±5% for
  integer scores too; gestational age in days) and "N/A" right only for an explicit abstention.

Rows use real items of the staged data (``$MEDEVALS_DATA/medcalc_bench``), both label sets:
(unique id, model output, verdict on the original labels, verdict on the corrected labels, the
case that motivated the row); a verdict is True (right), False (wrong) or None (unreadable:
counted as unparsed and scored wrong). ``DIFFERENCES`` pins every deliberate difference from the
upstream reader, each a row of the README table "How each benchmark is scored".
"""

from __future__ import annotations

import json
import re

import pytest

from medevals.protocols.calc import CalcOptions, CalcProtocol
from medevals.schema import CallRecord, Item

ROWS = [
    # --- decimals: within [Lower Limit, Upper Limit] ---
    ("1", "25.1", True, True, "decimal within both label sets' limits"),
    ("1", "26.6", False, False, "decimal just outside +5%"),
    ("21", "130.2 mL/min/1.73 m²", True, True, "issue 14: eGFR unit, 1.73 must not be read as the answer"),
    ("23", "83.0 mL/min/1.73 m²", True, False, "issue 14: eGFR unit; labels differ (83.07 vs 88.5)"),
    ("467", "-0.83 L", True, True, "negative decimal (free water deficit)"),
    ("81", "14.5 kg/m²", True, True, "unit with a superscript"),
    # --- integer scores: MedCalc-Bench rounds (half to even), the corrected set uses ±5% limits ---
    ("41", "4", True, True, "integer score exact"),
    ("41", "4.5", True, False, "issue 14: round(4.5) == 4 upstream; 4.5 outside the corrected [3.8, 4.2]"),
    ("41", "3.5", True, False, "round(3.5) == 4 upstream"),
    ("42", "2.5", False, False, "half to even: round(2.5) == 2, not the label 3"),
    ("42", "3 out of 9", True, False, "issue 14: upstream reads the number before 'out of', not the last"),
    ("829", "178", False, True, "corrected set: PSI 174 +-5% admits 178; original label 189"),
    # --- dates: the same calendar date ---
    ("928", "09/23/2014", True, False, "date equal to the original label"),
    ("928", "9/12/2014", False, True, "date equal to the corrected label, no zero padding"),
    # --- gestational age: original (weeks, days), corrected days within +-5% ---
    ("1029", "(14, 1)", True, True, "issue 14: gestational age as a tuple"),
    ("1029", [14, 1], True, True, "issue 14: gestational age as a JSON list"),
    ("1029", "[14, 1]", True, True, "issue 14: gestational age as a list in a string"),
    ("1029", "14 weeks 1 day", True, True, "gestational age in words"),
    ("1029", "(14, 0)", False, True, "98 days: not (14, 1), but within the corrected [94.05, 103.95]"),
    # --- "N/A" corrected labels: only an explicit abstention ---
    ("260", "N/A", False, True, "explicit abstention on a corrected N/A row"),
    ("260", "2", True, False, "a number on a corrected N/A row is wrong"),
    ("507", "Na 135", False, False, "issue 14: sodium 'Na 135' is not 'N/A'"),
    (
        "260",
        "Insufficient information to be certain; estimated 2",
        True,
        False,
        "issue 14: 'insufficient' next to a number is not an abstention",
    ),
    ("1", "N/A", False, False, "an abstention on a numeric label is wrong"),
    ("1", "str(short_and_direct_answer_of_the_question)", None, None, "prompt placeholder: unreadable"),
]


@pytest.fixture(scope="module")
def items() -> dict[str, Item]:
    from medevals.benchmarks import base, registry

    try:
        loaded = base.load(registry.get("medcalc"), "test").items
    except Exception as e:  # pragma: no cover - data missing
        pytest.skip(f"MedCalc-Bench data not available: {e}")
    return {it.id.removeprefix("medcalc-"): it for it in loaded}


def score(item: Item, text: str, mode: str = "chat", **options):
    raw = (
        {"choices": [{"index": 0, "text": text}]}
        if mode == "completion"
        else {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    )
    rec = CallRecord(model="m", kind=mode, request={}, raw=raw)
    return CalcProtocol(CalcOptions(**options)).score(item, {"mode": mode}, [rec])


def medcalc_reply(answer) -> str:
    """A reply in MedCalc-Bench's zero-shot format."""
    return json.dumps({"step_by_step_thinking": "...", "answer": answer})


def verdict(s, key: str) -> bool | None:
    return None if not s.parsed else s.values[key] == 1.0


@pytest.mark.parametrize(("uid", "answer", "original", "corrected", "case"), ROWS, ids=[r[4] for r in ROWS])
def test_medcalc_table(items, uid, answer, original, corrected, case):
    s = score(items[uid], medcalc_reply(answer))
    assert (verdict(s, "accuracy_original"), verdict(s, "accuracy_corrected")) == (original, corrected), case
    assert s.value == float(bool(original))  # the test split headlines the original labels


def test_corrected_split_headlines_the_corrected_rule(items):
    """Split ``corrected``: the target is the corrected label, judged by that set's limits."""
    it = items["41"]
    corrected = it.model_copy(update={"target": it.metadata["labels"]["corrected"]})
    s = score(corrected, medcalc_reply("4.5"))
    assert s.value == 0.0 and "limits rule" in s.explanation
    assert score(corrected, "<think>...</think><answer>4.1</answer>").value == 1.0


# --- free text and other answer containers (the prompt asks for JSON; replies do not always comply) ---
TEXT_ROWS = [
    ("21", "The patient's eGFR is 130.2 mL/min/1.73 m².", True, "issue 14: last-number rule read 1.73"),
    ("21", "eGFR = 141 × min(Scr/0.9, 1)^-0.411 × 0.993^45 = 130.2 mL/min/1.73 m^2", True, "trailing result"),
    ("1", "CrCl = ((140 - 87) × 48) / (72 × 1.2) = 25.1 mL/min", True, "formula operands are not answers"),
    ("1", "The answer is 25.1 (reference range 90-120 mL/min).", True, "a range is not the answer"),
    ("1", "Final answer:\n\n**25.1 mL/min**", True, "number on the line after the phrase, markdown"),
    (
        "41",
        "The CHA2DS2-VASc score is 4. A score >= 2 warrants anticoagulation.",
        True,
        "threshold, name digits",
    ),
    ("42", "The patient meets 3 of 9 criteria.", True, "'3 of 9': the denominator is not the answer"),
    ("41", "<answer>4</answer>", True, "the corrected set's answer tag"),
    ("41", r"\boxed{4}", True, "boxed"),
    ("1029", "The gestational age is 14w1d.", True, "issue 14: '34w3d' form"),
    ("260", "The HEART score cannot be calculated: troponin is not reported.", False, "abstention in words"),
    ("1", "I am not sure.", None, "no number: unparsed, never guessed"),
]


@pytest.mark.parametrize(("uid", "text", "original", "case"), TEXT_ROWS, ids=[r[3] for r in TEXT_ROWS])
def test_medcalc_text_rows(items, uid, text, original, case):
    assert verdict(score(items[uid], text), "accuracy_original") == original, case


def test_na_abstention_in_words_on_the_corrected_label(items):
    s = score(items["260"], "The HEART score cannot be calculated: troponin is not reported.")
    assert s.values["accuracy_corrected"] == 1.0 and s.answer == "N/A"
    s = score(items["260"], "The height is 175 cm, but the score cannot be calculated without troponin.")
    assert s.values["accuracy_corrected"] == 1.0  # the abstention comes after the number


def test_base_model_first_line(items):
    s = score(items["1"], "\n25.1 mL/min\nThe weight is 48 kg", mode="completion")
    assert s.value == 1.0 and s.answer == 25.1


# --- --set tolerance=...: one rule for every label set (recorded with the options in the manifest) ---
TOLERANCE_ROWS = [
    ("41", "4.5", "medcalc", True, True, "rounding applied to the corrected label too"),
    ("41", "4.5", "limits", False, False, "original limits of an integer row are the label itself"),
    ("41", "4.1", "limits", False, True, "corrected +-5% admits 4.1, no rounding"),
    ("42", "4", "physician", True, True, "validate-medcalc-labels agreement: ordinal within +-1 (3 and 5)"),
    ("1", "26.4", "physician", True, True, "continuous within +-5% of the label (25.238 / 25.24)"),
    ("829", "178", "physician", False, True, "continuous: 178 vs 189 is 5.8%, vs 174 is 2.3%"),
]


@pytest.mark.parametrize(
    ("uid", "answer", "rule", "original", "corrected", "case"),
    TOLERANCE_ROWS,
    ids=[r[5] for r in TOLERANCE_ROWS],
)
def test_tolerance_option(items, uid, answer, rule, original, corrected, case):
    s = score(items[uid], medcalc_reply(answer), tolerance=rule)
    assert (verdict(s, "accuracy_original"), verdict(s, "accuracy_corrected")) == (original, corrected), case


# --- deliberate differences from the upstream reader: (uid, output, upstream, medevals, README reason) ---
DIFFERENCES = [
    ("23", "The eGFR is 83.0 mL/min/1.73 m².", False, True, "no JSON: upstream finds no answer"),
    ("81", medcalc_reply("14.5 kg/m^2"), False, True, "upstream reads the exponent 2"),
    ("507", medcalc_reply("0.25%"), False, True, "upstream divides a percentage by 100"),
    (
        "81",
        medcalc_reply("str(round(45 / 1.76**2, 1))"),
        True,
        None,
        "upstream evaluates formulas; never here",
    ),
    ("928", medcalc_reply("2014-09-23"), False, True, "upstream reads only M/D/YYYY at the start"),
    ("1029", medcalc_reply("14w1d"), False, True, "upstream reads '14w1d' as (1, 4)"),
    ("1029", medcalc_reply("99 days"), False, True, "upstream reads '99 days' as (9, 9)"),
    ("42", medcalc_reply("1, 2, 3"), True, None, "upstream counts a list (3 items = score 3)"),
]


@pytest.mark.parametrize(
    ("uid", "text", "upstream", "medevals", "reason"), DIFFERENCES, ids=[r[4] for r in DIFFERENCES]
)
def test_documented_differences(items, uid, text, upstream, medevals, reason):
    assert upstream != medevals
    assert verdict(score(items[uid], text), "accuracy_original") == medevals, reason


# --- medcalc-gen: MedCalc-Bench's rule on library labels, "N/A" for a note missing a value ---
def test_medcalc_gen_labels():
    from medevals.benchmarks import base, registry

    items = base.load(registry.get("medcalc-gen"), seed=7).items
    na = next(it for it in items if it.target["answer"] == "N/A")
    ga = next(it for it in items if "week" in it.target["answer"])
    assert score(na, medcalc_reply("N/A")).value == 1.0
    assert score(na, medcalc_reply("Na 135")).value == 0.0
    weeks, days = (int(x) for x in re.findall(r"\d+", ga.target["answer"]))
    assert score(ga, medcalc_reply(f"({weeks}, {days})")).value == 1.0
    assert score(ga, medcalc_reply(f"[{weeks}, {days + 1}]")).value == 0.0
