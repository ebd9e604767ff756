"""Long-document QA scoring (LongHealth task 2 rule), one row per case: the answerable item is
right only with its key, the unanswerable twin only with the abstention option ('Question
cannot be answered with provided documents'); an unreadable reply is wrong and counted."""

from __future__ import annotations

import pytest
from fake_openai import make_response

from medevals.benchmarks.documents import paired_items
from medevals.protocols.longdoc import LongDocOptions, LongDocProtocol
from medevals.schema import CallRecord

CORPUS = {"kind": "rows", "path": "unused.jsonl", "field": "documents"}
ANSWERABLE, TWIN = paired_items(
    id="q",
    question="Q?",
    choices={"A": "yes", "B": "no", "C": "maybe"},
    answer="B",
    answer_docs=["d1"],
    corpus=CORPUS,
)

# (item, reply, value, parsed, {extra value: expected})
ROWS = [
    (ANSWERABLE, "The answer is (B).", 1.0, True, {"answerable_accuracy": 1.0, "false_abstention": 0.0}),
    (ANSWERABLE, "The answer is (A).", 0.0, True, {"answerable_accuracy": 0.0, "false_abstention": 0.0}),
    (ANSWERABLE, "The answer is (D).", 0.0, True, {"answerable_accuracy": 0.0, "false_abstention": 1.0}),
    (
        ANSWERABLE,
        "D: Question cannot be answered with provided documents",
        0.0,
        True,
        {"false_abstention": 1.0},
    ),
    (ANSWERABLE, "I am not sure.", 0.0, False, {"answerable_accuracy": 0.0, "false_abstention": 0.0}),
    (TWIN, "The answer is (D).", 1.0, True, {"abstention_accuracy": 1.0}),
    (TWIN, "The correct answer is D: Question cannot be answered with provided documents.", 1.0, True, {}),
    (TWIN, "The answer is (B).", 0.0, True, {"abstention_accuracy": 0.0}),
    (TWIN, "Not in the documents.", 0.0, False, {"abstention_accuracy": 0.0}),
]


@pytest.mark.parametrize(("item", "reply", "value", "parsed", "extra"), ROWS)
def test_longdoc_scoring(item, reply, value, parsed, extra):
    proto = LongDocProtocol(LongDocOptions())
    call = CallRecord(model="m", kind="chat", request={}, raw=make_response("chat", reply, {}))
    output = {"mode": "generate", "parts": [{"use": "answer", "order": None}], "documents": ["d1"]}
    sc = proto.score(item, output, [call], "4k")
    assert (sc.value, sc.parsed) == (value, parsed)
    for k, v in extra.items():
        assert sc.values[k] == v, k
    assert ("abstention_accuracy" in sc.values) is (not item.metadata["answerable"])


def test_pubmedqa_long_counts(shared_data):
    from medevals.benchmarks.base import load
    from medevals.benchmarks.registry import get

    data = load(get("pubmedqa-long"))
    items = list(data.items)
    assert len(items) == 1000
    assert sum(it.metadata["answerable"] for it in items) == 500
    assert all(it.choices["D"] == "Question cannot be answered with provided documents" for it in items)
    assert all("LONG_ANSWER" not in str(it.metadata) for it in items)
