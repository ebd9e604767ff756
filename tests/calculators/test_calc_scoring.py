"""MedCalc-Bench scoring: limits for decimals, exact integers, dates as dates, weeks/days, N/A abstention."""

from medevals.protocols.calc import answer_text
from medevals.scoring.calc_answer import judge

DEC = {"answer": "25.238", "lower": "23.9761", "upper": "26.4999"}


def test_decimal_within_limits():
    assert judge("25", DEC, "decimal") == (True, 25.0)
    assert judge("The clearance is 26.6 mL/min", DEC, "decimal")[0] is False
    assert judge("no idea", DEC, "decimal") == (None, None)
    assert judge("1,234.5", {"answer": "1234", "lower": "1200", "upper": "1300"}, "decimal")[0] is True


def test_integer_exact():
    lab = {"answer": "4", "lower": "4", "upper": "4"}
    assert judge("4", lab, "integer")[0] is True
    assert judge("4.5", lab, "integer")[0] is False
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
    assert judge("14 weeks and 1 day", corr, "integer")[0] is True
    assert judge("99", corr, "integer")[0] is True
    assert judge("(14 weeks, 2 days)", orig, "integer")[0] is False


def test_na_labels_expect_abstention():
    na = {"answer": "N/A", "lower": None, "upper": None}
    assert judge("N/A", na, "decimal")[0] is True
    assert judge("Cannot compute: creatinine missing", na, "decimal")[0] is True
    assert judge("42", na, "decimal")[0] is False
    assert judge("N/A", DEC, "decimal")[0] is False


def test_answer_text_reads_json_last():
    assert answer_text('thinking... {"step_by_step_thinking": "x", "answer": "12.5"}') == "12.5"
    assert answer_text("The answer is 7").strip() == "is 7"
