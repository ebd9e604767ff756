"""HEAD-QA, FrenchMedMCQA, CMExam and IgakuQA loaders: exact counts per split, skipped rows counted
by reason, answer sets, languages, and no answer-leaking field in any item."""

from __future__ import annotations

from collections import Counter

import pytest

from medevals.benchmarks import base, registry
from medevals.benchmarks.base import Skipped
from medevals.benchmarks.language_exams import _frenchmedmcqa_hub, _headqa_hub
from medevals.errors import ConfigError

NO_IMAGE = "refers to an image the data does not ship"

# (benchmark, split, load options) -> (items, {skip reason: count}, answer-set items, with several correct)
EXPECTED = {
    ("headqa", "test", ()): (1762, {NO_IMAGE: 67}, 0, 0),
    ("frenchmedmcqa", "test", ()): (622, {}, 622, 301),
    ("frenchmedmcqa", "dev", ()): (312, {}, 312, 148),
    ("cmexam", "val", ()): (1999, {"no answer key in the source ('nan')": 1}, 1999, 68),
    (
        "igakuqa",
        "test",
        (),
    ): (1471, {NO_IMAGE + " (text_only: false)": 529}, 223, 223),
    (
        "igakuqa",
        "en",
        (),
    ): (1471, {NO_IMAGE + " (text_only: false)": 529}, 223, 223),
    (
        "igakuqa",
        "test",
        (("translation", "both"),),
    ): (2942, {NO_IMAGE + " (text_only: false)": 1058}, 446, 446),
}


@pytest.mark.parametrize(("name", "split", "opts"), list(EXPECTED))
def test_counts(shared_data, name, split, opts):
    bench = registry.get(name)
    data = base.load(bench, split, shared_data, options=dict(opts))
    n, skipped, sets, several = EXPECTED[(name, split, opts)]
    assert len(data.items) == n and data.skipped == skipped
    # the declared split size is the source's: loaded + skipped (per language for "both")
    per_language = 2 if dict(opts).get("translation") == "both" else 1
    assert n + sum(skipped.values()) == bench.splits[split] * per_language
    items = list(data.items)
    assert len({it.id for it in items}) == n
    set_items = [it for it in items if it.metadata.get("multi_answer")]
    assert len(set_items) == sets and sum(len(it.target) > 1 for it in set_items) == several
    for it in items:
        assert it.metadata.get("language") in bench.languages
        if it.metadata.get("answer_type") == "number":  # IgakuQA's 12 numeric-entry questions
            assert name == "igakuqa" and not it.choices and it.metadata["box"]
            continue
        targets = it.target if it.metadata.get("multi_answer") else [it.target]
        assert it.choices and targets and all(t in it.choices for t in targets)


def test_headqa_subsets_and_language(shared_data):
    items = list(base.load(registry.get("headqa"), "test", shared_data).items)
    assert Counter(it.subset for it in items) == {
        "medicine": 396,
        "pharmacology": 457,
        "nursery": 455,
        "biology": 454,
    }
    assert {it.metadata["language"] for it in items} == {"es"}
    assert not any(it.input.startswith("Pregunta vinculada a la imagen") for it in items)


def test_igakuqa_exams_languages_and_counts_to_choose(shared_data):
    both = list(
        base.load(registry.get("igakuqa"), "test", shared_data, options={"translation": "both"}).items
    )
    assert Counter(it.metadata["language"] for it in both) == {"ja": 1471, "en": 1471}
    ja = {it.id: it for it in both if it.metadata["language"] == "ja"}
    en = {it.id: it for it in both if it.metadata["language"] == "en"}
    assert set(en) == {f"{i}:en" for i in ja}
    assert (
        en["116A1:en"].input.startswith("Which of the following")
        and ja["116A1"].target == en["116A1:en"].target
    )
    assert Counter(it.subset for it in ja.values()) == {
        "112": 286,
        "113": 296,
        "114": 287,
        "115": 301,
        "116": 301,
    }
    assert Counter(it.metadata.get("n_select") for it in ja.values()) == {None: 1248, 2: 180, 3: 43}
    assert Counter(it.metadata["points"] for it in ja.values()) == {1: 1264, 3: 200, 0: 7}
    assert sum(it.metadata.get("answer_type") == "number" for it in ja.values()) == 12
    assert ja["116A71"].metadata["accept"] == ["A", "B", "C", "D"]  # every answer credited upstream


def test_igakuqa_rejects_an_unknown_translation(shared_data):
    with pytest.raises(ConfigError, match="translation must be one of ja, en, both"):
        base.load(registry.get("igakuqa"), "test", shared_data, options={"translation": "fr"})


def test_no_answer_leaking_field_reaches_an_item(shared_data):
    """CMExam's Explanation, FrenchMedMCQA's nbr_correct_answers/type and IgakuQA's metadata file
    (examinee breakdown, human accuracy, contraindicated options) never reach an item."""
    cm = list(base.load(registry.get("cmexam"), "val", shared_data).items)
    assert not any("对）" in (it.input + "".join(it.choices.values())) for it in cm)
    for name, split in (("frenchmedmcqa", "test"), ("frenchmedmcqa", "dev"), ("igakuqa", "test")):
        for it in base.load(registry.get(name), split, shared_data).items:
            leaked = {"nbr_correct_answers", "type", "breakdown", "human_accuracy", "kinki", "reason"}
            assert not leaked & set(it.metadata), (name, it.id)
            assert "n_select" not in it.metadata or name == "igakuqa"


def test_hub_rows_map_like_local_rows():
    """The upstream hub copies' row shapes (dvilares/head_qa 'es', qanastek/frenchmedmcqa)."""
    row = {
        "name": "Cuaderno_2016_1_M",
        "year": "2016",
        "category": "medicine",
        "qid": 7,
        "qtext": "¿Qué fármaco?",
        "ra": 2,
        "image": None,
        "answers": [{"aid": i, "atext": f"op{i}"} for i in range(1, 5)],
    }
    item = _headqa_hub(row, 0, "es")
    assert not isinstance(item, Skipped) and item.target == "B" and item.metadata["language"] == "es"
    assert isinstance(_headqa_hub(dict(row, image=object()), 0, "es"), Skipped)
    assert "psychology" in _headqa_hub(dict(row, category="psychology"), 0, "es").reason
    fr = {
        "id": "h",
        "question": "Q ?",
        "correct_answers": ["a", "e"],
        **{f"answer_{x}": x * 3 for x in "abcde"},
    }
    item = _frenchmedmcqa_hub(fr, 0, "")
    assert item.target == ["A", "E"] and item.metadata["multi_answer"] and item.choices["E"] == "eee"
