"""MedCalc-Bench scoring: limits for decimals, exact integers, dates as dates, weeks/days, N/A abstention."""

from medevals.scoring.calc_answer import answer_segment, judge

DEC = {"answer": "25.238", "lower": "23.9761", "upper": "26.4999"}


def test_decimal_within_limits():
    assert judge("25", DEC, "decimal") == (True, 25.0)
    assert judge("The clearance is 26.6 mL/min", DEC, "decimal")[0] is False
    assert judge("no idea", DEC, "decimal") == (None, None)
    assert judge("1,234.5", {"answer": "1234", "lower": "1200", "upper": "1300"}, "decimal")[0] is True


def test_integer_rounded_half_to_even_then_exact():
    # MedCalc-Bench evaluate.py: round(eval(answer)) == eval(ground_truth), Python's round
    lab = {"answer": "4", "lower": "4", "upper": "4"}
    assert judge("4", lab, "integer")[0] is True
    assert judge("4.5", lab, "integer")[0] is True  # round(4.5) == 4
    assert judge("3.5", lab, "integer")[0] is True  # round(3.5) == 4
    assert judge("4.6", lab, "integer")[0] is False
    assert judge("5", lab, "integer")[0] is False


def test_dates_as_dates():
    lab = {"answer": "09/23/2014", "lower": "09/23/2014", "upper": "09/23/2014"}
    assert judge("9/23/2014", lab, "date")[0] is True
    assert judge("2014-09-23", lab, "date")[0] is True
    assert judge("09/24/2014", lab, "date")[0] is False


def test_gestational_age_weeks_days_or_days():
    orig = {"answer": "('14 weeks', '1 days')", "lower": "x", "upper": "x"}
    corr = {"answer": "99", "lower": "99", "upper": "99"}
    assert judge("(14 weeks, 1 days)", orig, "integer")[0] is True
    assert judge("14 weeks and 1 day", corr, "integer", kind="gestational_age")[0] is True
    assert judge("99", corr, "integer", kind="gestational_age")[0] is True
    assert judge("(14 weeks, 2 days)", orig, "integer")[0] is False


def test_na_labels_expect_abstention():
    na = {"answer": "N/A", "lower": None, "upper": None}
    assert judge("N/A", na, "decimal")[0] is True
    assert judge("Cannot compute: creatinine missing", na, "decimal")[0] is True
    assert judge("42", na, "decimal")[0] is False
    assert judge("N/A", DEC, "decimal")[0] is False


def test_answer_segment_reads_json_last():
    assert answer_segment('thinking... {"step_by_step_thinking": "x", "answer": "12.5"}')[:2] == (
        "12.5",
        "json",
    )
    assert answer_segment("The answer is 7")[0].strip() == "7"


def _score(mode: str, text: str, target: dict, labels: dict | None = None, otype: str = "decimal"):
    from medevals.protocols.calc import CalcOptions, CalcProtocol
    from medevals.schema import CallRecord, Item

    item = Item(
        id="x",
        input="q",
        context="note",
        target=target,
        metadata={"output_type": otype, "labels": labels or {"original": target, "corrected": None}},
    )
    raw = (
        {"choices": [{"index": 0, "text": text}]}
        if mode == "completion"
        else {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    )
    rec = CallRecord(model="m", kind="completion" if mode == "completion" else "chat", request={}, raw=raw)
    return CalcProtocol(CalcOptions()).score(item, {"mode": mode}, [rec])


def test_protocol_scores_both_label_sets():
    orig = {"answer": "25.238", "lower": "23.9761", "upper": "26.4999"}
    corr = {"answer": "9", "lower": "8.55", "upper": "9.45"}
    s = _score("chat", 'reasoning {"answer": "25.1"}', orig, {"original": orig, "corrected": corr})
    assert s.value == 1.0 and s.values["accuracy_original"] == 1.0 and s.values["accuracy_corrected"] == 0.0
    s = _score("chat", "I am not sure", orig)
    assert s.value == 0.0 and s.parsed is False and s.values["accuracy_corrected"] is None


def test_base_model_completion_answer_is_its_first_line():
    target = {"answer": "10.4", "lower": "9.88", "upper": "10.92"}
    s = _score("completion", "\nThe creatinine clearance was 10.5 mL/min.\nThe weight is 70 kg", target)
    assert s.value == 1.0 and s.answer == 10.5
