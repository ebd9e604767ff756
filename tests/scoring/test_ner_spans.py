"""NER reply parsing, alignment to tokens, and strict/partial scores through nervaluate."""

import pytest

from medevals.benchmarks.ner_sets import iob_spans
from medevals.errors import DataError
from medevals.scoring.ner_spans import align, evaluate_spans, parse_entities

TOKENS = [
    "Torsade",
    "de",
    "pointes",
    "after",
    "5",
    "-",
    "fluorouracil",
    ";",
    "Torsade",
    "de",
    "pointes",
    "again",
    ".",
]


def test_alignment_is_whitespace_and_case_insensitive_at_token_boundaries():
    assert align(TOKENS, "torsade de pointes") == [(0, 2), (8, 10)]
    assert align(TOKENS, "5-fluorouracil") == [(4, 6)]
    assert align(TOKENS, "ade de") == []  # starts inside a token
    assert align(TOKENS, "") == []


def test_parse_counts_unaligned_unknown_and_malformed_entities():
    reply = (
        'Here: {"entities": [{"text": "Torsade de pointes", "type": "disease"}, '
        '{"text": "aspirin", "type": "Chemical"}, {"text": "BRCA1", "type": "Gene"}, {"name": "x"}]}'
    )
    p = parse_entities(reply, TOKENS, ["Chemical", "Disease"])
    assert p.parsed
    assert p.spans[:2] == [
        {"type": "Disease", "start": 0, "end": 2},
        {"type": "Disease", "start": 8, "end": 10},
    ]
    assert p.spans[2] == {
        "type": "Chemical",
        "start": len(TOKENS),
        "end": len(TOKENS),
    }  # spurious, off the end
    assert p.unaligned == ["aspirin"] and p.unknown_type == ["Gene"] and p.malformed == 1


@pytest.mark.parametrize("reply", ["no entities here", "", '{"people": []}', "[1, 2"])
def test_replies_without_an_entities_list_are_unparsed(reply):
    p = parse_entities(reply, TOKENS, ["Disease"])
    assert not p.parsed and p.spans == [] and p.error


def test_bare_list_reply_is_accepted():
    p = parse_entities('[{"text": "fluorouracil", "type": "Chemical"}]', TOKENS, ["Chemical"])
    assert p.parsed and p.spans == [{"type": "Chemical", "start": 6, "end": 6}]


def test_strict_and_partial_scores_by_hand():
    gold = [[{"type": "Disease", "start": 0, "end": 2}, {"type": "Chemical", "start": 4, "end": 6}]]
    # one exact match, one boundary error on the chemical (overlap), one spurious disease
    pred = [
        [
            {"type": "Disease", "start": 0, "end": 2},
            {"type": "Chemical", "start": 6, "end": 6},
            {"type": "Disease", "start": 9, "end": 9},
        ]
    ]
    res = evaluate_spans(gold, pred, ["Chemical", "Disease"])
    strict, partial = res["overall"]["strict"], res["overall"]["partial"]
    assert strict["correct"] == 1 and strict["possible"] == 2 and strict["actual"] == 3
    assert strict["precision"] == pytest.approx(1 / 3) and strict["recall"] == pytest.approx(1 / 2)
    assert strict["f1"] == pytest.approx(0.4)
    # partial: (correct + 0.5 * partial) / actual|possible = 1.5/3 and 1.5/2
    assert partial["precision"] == pytest.approx(0.5) and partial["recall"] == pytest.approx(0.75)
    assert res["types"]["Chemical"]["strict"]["f1"] == 0
    assert res["types"]["Disease"]["strict"]["recall"] == 1.0


def test_iob_spans_and_bad_tags():
    assert iob_spans(["B-Disease", "I-Disease", "O", "I-Chemical", "B-Chemical"], "f", 1) == [
        {"type": "Disease", "start": 0, "end": 1},
        {"type": "Chemical", "start": 3, "end": 3},
        {"type": "Chemical", "start": 4, "end": 4},
    ]
    with pytest.raises(DataError, match=r"test.tsv:12: field .tag."):
        iob_spans(["O", "X-Disease"], "test.tsv", 11)


def test_micro_f1_ci_uses_nervaluate_counts_per_sentence():
    from medevals.scoring.ner_spans import f1_with_ci

    gold = [[{"type": "Disease", "start": 0, "end": 1}], [{"type": "Disease", "start": 2, "end": 2}], []]
    pred = [
        [{"type": "Disease", "start": 0, "end": 1}],
        [{"type": "Disease", "start": 2, "end": 3}],
        [{"type": "Disease", "start": 5, "end": 5}],
    ]
    res = evaluate_spans(gold, pred, ["Disease"])
    for scheme in ("strict", "partial"):
        ci = f1_with_ci(res["per_doc"][scheme], seed=1)
        assert ci["value"] == pytest.approx(res["overall"][scheme]["f1"])
        assert ci["ci_low"] <= ci["value"] <= ci["ci_high"] and ci["n"] == 3
    assert res["overall"]["strict"]["f1"] == pytest.approx(0.4)  # 1 correct of 3 predicted, 2 gold
    assert res["overall"]["partial"]["f1"] == pytest.approx(0.6)  # (1 + 0.5) / 3 and / 2
