"""IgakuQA conformance: accuracy and exam points, as the benchmark's evaluation script.

Reference rule (Kasai et al. 2023; ``jungokasai/IgakuQA@scripts/evaluate_main.py``): the
prediction (comma-separated letters, full-width folded to ASCII and lower-cased) sorted equals the
sorted key; 112B30 accepts "a" or "d"; 116A71 is credited to every answer; the score adds the
question's points (1, 3, or 0 for questions the ministry excluded); numeric-entry questions
compare the prediction with the key as strings. Deliberate differences (README): upstream credits
116A71 even for an empty prediction, medevals needs a readable option; a numeric answer is right
when it has the value the key spells in the question's answer boxes ("0.4" for key "04" under
"①.②"; upstream: only the string "04") or gives the box digits themselves.
"""

from __future__ import annotations

import pytest
from mcqscore import score_reply

from medevals.benchmarks.language_exams import _igakuqa_item

OPTS = ["選択肢一", "選択肢二", "選択肢三", "選択肢四", "選択肢五"]


def item(pid: str, answer: list[str], *, points: str = "1", text: str = "正しいのはどれか。"):
    row = {
        "problem_id": pid,
        "problem_text": text,
        "choices": OPTS,
        "text_only": True,
        "answer": answer,
        "points": points,
    }
    return _igakuqa_item(row, text, OPTS, lang="ja", where="t.jsonl", line=1)


TWO = "正しいのはどれか。2つ選べ。"

# (item, reply, correct, points earned, motivating case)
ROWS = [
    (item("116A1", ["c"]), "c", 1.0, 1.0, "upstream's answer format: a lower-case letter"),
    (item("116A1", ["c"]), "正解はCです。", 1.0, 1.0, "Japanese statement"),
    (item("116A1", ["c"]), "ｃ", 1.0, 1.0, "full-width letter (upstream folds zen_to_han)"),
    (item("116A1", ["c"]), "b", 0.0, 0.0, "wrong"),
    (item("116B5", ["a", "c"], text=TWO), "a,c", 1.0, 1.0, "two to choose, upstream's comma format"),
    (item("116B5", ["a", "c"], text=TWO), "c,a", 1.0, 1.0, "order does not matter (upstream sorts)"),
    (item("116B5", ["a", "c"], text=TWO), "a", 0.0, 0.0, "one of two"),
    (item("116B5", ["a", "c"], text=TWO), "a,b,c", 0.0, 0.0, "one too many"),
    (item("116B5", ["a", "c"], text=TWO), "正解は a と c", 1.0, 1.0, "Japanese 'と' joins the set"),
    (item("116E9", ["d"], points="3"), "d", 1.0, 3.0, "clinical question: 3 points"),
    (item("116E9", ["d"], points="3"), "a", 0.0, 0.0, "clinical question answered wrong: 0 points"),
    (item("113A5", ["e"], points="0"), "e", 1.0, 0.0, "question excluded by the ministry: right, 0 points"),
    (item("112B30", ["a or d"]), "d", 1.0, 1.0, "112B30: 'a or d', d accepted"),
    (item("112B30", ["a or d"]), "a", 1.0, 1.0, "112B30: 'a or d', a accepted"),
    (item("112B30", ["a or d"]), "b", 0.0, 0.0, "112B30: b is wrong"),
    (item("116A71", ["e"]), "b", 1.0, 1.0, "116A71: every answer credited"),
    (
        item("116A71", ["e"]),
        "わかりません",
        0.0,
        0.0,
        "116A71 unread: upstream credits it, medevals does not",
    ),
]


@pytest.mark.parametrize(("it", "reply", "correct", "points", "case"), ROWS, ids=[r[4] for r in ROWS])
def test_igakuqa_scores(it, reply, correct, points, case):
    sc = score_reply("igakuqa", it, reply)
    assert (sc.value, sc.values["exam_points"]) == (correct, points), (case, sc.answer, sc.explanation)


def test_count_to_choose_comes_from_the_question_not_the_key():
    """'2つ選べ' makes an answer-set item that tells the model how many; a one-answer question does not."""
    two = item("116B5", ["a", "c"], text=TWO)
    one = item("116A1", ["c"])
    assert two.metadata["multi_answer"] and two.metadata["n_select"] == 2 and two.target == ["A", "C"]
    assert "multi_answer" not in one.metadata and one.target == "C"


def numeric(pid: str, key: str, box: str):
    text = f"計算せよ。解答：{box}"
    row = {
        "problem_id": pid,
        "problem_text": text,
        "choices": [],
        "text_only": True,
        "answer": [key],
        "points": "1",
    }
    return _igakuqa_item(row, text, [], lang="ja", where="t.jsonl", line=1)


# (key, answer boxes, reply, correct, motivating case)
NUMERIC_ROWS = [
    ("04", "①.②", "0.4", 1.0, "116F74: the value the boxes spell (upstream: wrong, not the string '04')"),
    ("04", "①.②", "04", 1.0, "the box digits themselves (upstream's only right answer)"),
    ("04", "①.②", "0.40", 1.0, "same value, trailing zero"),
    ("04", "①.②", "4", 0.0, "a different value, not the box digits"),
    ("04", "①.②", "答えは0.4です。", 1.0, "Japanese statement"),
    ("7.20", "①.②③", "7.2", 1.0, "113F84: key with its point, same value"),
    ("7.20", "①.②③", "720", 1.0, "box digits of a key written with its point"),
    ("7.20", "①.②③", "7.21", 0.0, "wrong at the second decimal"),
    ("130", "1, ①②③ kcal", "1,130 kcal", 1.0, "114F75: a printed digit before the boxes"),
    ("130", "1, ①②③ kcal", "1130", 1.0, "without the thousands separator"),
    ("130", "1, ①②③ kcal", "1,300", 0.0, "wrong value"),
    ("26", "①②Torr", "The A-aDO2 is 26 Torr.", 1.0, "English reply with a unit"),
    ("26", "①②Torr", "計算すると 20 + 6 で、答えは 26", 1.0, "the number after the last statement"),
    ("26", "①②Torr", "解答：①②Torr", 0.0, "an echoed box template is no answer"),
    ("26", "①②Torr", "わかりません", 0.0, "no number: unread"),
]


@pytest.mark.parametrize(
    ("key", "box", "reply", "correct", "case"), NUMERIC_ROWS, ids=[r[4] for r in NUMERIC_ROWS]
)
def test_igakuqa_numeric_entry(key, box, reply, correct, case):
    it = numeric("116F74", key, box)
    assert it.metadata["answer_type"] == "number" and it.metadata["box"] == box and not it.choices
    sc = score_reply("igakuqa", it, reply)
    assert sc.value == correct and sc.values["exam_points"] == correct, (case, sc.answer)
