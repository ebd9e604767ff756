"""CMExam conformance: accuracy = the predicted option letters equal the key's.

Reference rule (Liu et al. 2023; ``williamliujl/CMExam@src/evaluation/evaluate_gpt_result.py``): the
letters after "答案：" compared with the key as strings; rows whose prediction is missing leave
the denominator. Deliberate differences (README): medevals compares *sets* ("DCBA" and "A、B、C、D"
are "ABCD"; upstream's string compare scores them wrong), reads the answer wherever it is stated,
and keeps an unreadable reply in the denominator as wrong.
"""

from __future__ import annotations

import pytest
from mcqscore import score_reply

from medevals.benchmarks.mapping import mcq_set_item

CHOICES = {"A": "原发病", "B": "出血部位", "C": "出血量", "D": "在胃内停留时间", "E": "以上均非"}

# (reply, key, correct, motivating case)
ROWS = [
    ("答案：C，解释：出血量决定呕血或黑便", "C", 1.0, "upstream's own output format '答案：**,解释：**'"),
    ("答案：ABCD", "ABCD", 1.0, "multiple-answer (X-type) key"),
    ("答案：A、B、C、D", "ABCD", 1.0, "ideographic commas (upstream string compare: wrong)"),
    ("答案：DCBA", "ABCD", 1.0, "another order is the same set (upstream: wrong)"),
    ("答案：ABC", "ABCD", 0.0, "one option missing"),
    ("答案：A", "AB", 0.0, "single letter for a two-option key"),
    ("答案是C", "C", 1.0, "'答案是' without a colon"),
    ("选项A错误，选项B不正确，所以选C。", "C", 1.0, "rejections, then the choice"),
    ("答案：ＡＢ", "AB", 1.0, "full-width letters"),
    ("C", "C", 1.0, "bare letter"),
    ("答案不是A。", "A", 0.0, "negation: unreadable, counted, scored wrong"),
]


@pytest.mark.parametrize(("reply", "key", "correct", "case"), ROWS, ids=[r[3] for r in ROWS])
def test_cmexam_scores(reply, key, correct, case):
    item = mcq_set_item(id="x", question="题", choices=CHOICES, answers=list(key), where="t.csv", line=1)
    item.metadata["language"] = "zh"
    sc = score_reply("cmexam", item, reply)
    assert sc.value == correct, (case, sc.answer, sc.explanation)
