"""Loaders count the exact number of items per split in ../shared/data and reject bad rows clearly."""

import json

import pytest

from medevals.benchmarks import base, registry
from medevals.errors import ConfigError, DataError

EXPECTED = {
    ("medqa", "test"): 1273,
    ("medmcqa", "dev"): 4183,
    ("mmlu-med", "test"): 1089,
    ("pubmedqa", "test"): 500,
    ("pubmedqa", "train"): 500,
    ("medbullets", "op4"): 308,
    ("medbullets", "op5"): 308,
    ("medagentsbench", "all"): 594,
    ("medagentsbench", "medqa"): 100,
    ("medagentsbench", "pubmedqa"): 100,
    ("medagentsbench", "medmcqa"): 100,
    ("medagentsbench", "medbullets"): 89,
    ("medagentsbench", "mmlu"): 73,
    ("medagentsbench", "mmlu-pro"): 100,
    ("medagentsbench", "afrimedqa"): 32,
}


@pytest.mark.parametrize(("name", "split"), list(EXPECTED))
def test_counts(shared_data, name, split):
    data = base.load(registry.get(name), split, shared_data)
    assert len(data.items) == EXPECTED[(name, split)]
    assert data.data_hash.startswith("sha256:")
    for it in data.items:
        assert it.choices and it.target in it.choices


def test_demo_is_bundled_and_balanced():
    data = base.load(registry.get("demo"))
    assert len(data.items) == 40
    letters = [it.target for it in data.items]
    assert {x: letters.count(x) for x in "ABCD"} == {"A": 10, "B": 10, "C": 10, "D": 10}


def test_item_fields(shared_data):
    mcq = base.load(registry.get("medmcqa"), None, shared_data).items[0]
    assert (
        mcq.id == "45258d3d-b974-44dd-a161-c3fccbdadd88" and mcq.target == "A" and mcq.subset == "Physiology"
    )
    pq = base.load(registry.get("pubmedqa"), "test", shared_data).items
    assert all(it.context for it in pq) and {it.choices["A"] for it in pq} == {"yes"}
    afri = [it for it in base.load(registry.get("medagentsbench"), "afrimedqa", shared_data).items]
    assert all("n/a" not in [v.lower() for v in it.choices.values()] for it in afri)
    op5 = base.load(registry.get("medbullets"), "op5", shared_data).items[0]
    assert list(op5.choices) == ["A", "B", "C", "D", "E"]


def test_unknown_benchmark_and_split():
    with pytest.raises(ConfigError, match="did you mean medqa"):
        registry.get("medqaa")
    with pytest.raises(ConfigError, match="no split 'train'"):
        base.load(registry.get("medqa"), "train", "/nonexistent")


def test_missing_data_dir_says_what_to_pass(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDEVALS_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no data/ or ../shared/data here
    with pytest.raises(DataError, match=r"hub is not usable \(offline mode.*--data-dir"):
        base.load(registry.get("medqa"))
    with pytest.raises(DataError, match="data directory does not exist"):
        base.load(registry.get("medqa"), data_dir=tmp_path / "nope")
    with pytest.raises(DataError, match="only available from a local folder"):
        base.load(registry.get("medbullets"))


def _medqa_dir(tmp_path, lines):
    d = tmp_path / "medqa"
    d.mkdir()
    (d / "phrases_no_exclude_test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


GOOD = json.dumps({"question": "Q?", "options": {"A": "a", "B": "b"}, "answer_idx": "B"})


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([GOOD, '{"question": "Q?", "options": {"A"'], r"phrases_no_exclude_test.jsonl:2: invalid JSON"),
        (
            [GOOD, json.dumps({"options": {"A": "a", "B": "b"}, "answer_idx": "A"})],
            r":2: field 'question': missing",
        ),
        (
            [json.dumps({"question": "Q", "options": {"A": "a", "B": "b"}, "answer_idx": "E"})],
            r":1: field 'answer_idx': answer key 'E' is not among",
        ),
        (
            [json.dumps({"question": "Q", "options": {"A": "a", "B": ""}, "answer_idx": "A"})],
            r":1: field 'options.B': option B is empty",
        ),
        (
            [json.dumps({"question": "Q", "options": ["a", "b"], "answer_idx": "A"})],
            r":1: field 'options': expected dict",
        ),
        (["[1, 2]"], r":1: expected a JSON object"),
    ],
)
def test_malformed_rows_name_file_line_field(tmp_path, lines, message):
    root = _medqa_dir(tmp_path, lines)
    with pytest.raises(DataError, match=message):
        base.load(registry.get("medqa"), None, root)


def test_empty_and_non_utf8_files(tmp_path):
    d = tmp_path / "medqa"
    d.mkdir()
    f = d / "phrases_no_exclude_test.jsonl"
    f.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="file is empty"):
        base.load(registry.get("medqa"), None, tmp_path)
    f.write_bytes(GOOD.encode() + b"\n" + b'{"question": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r":2: not valid UTF-8"):
        base.load(registry.get("medqa"), None, tmp_path)


def test_duplicate_ids(tmp_path):
    d = tmp_path / "medmcqa"
    d.mkdir()
    row = {"id": "x1", "question": "Q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 1}
    (d / "dev.json").write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="duplicate item id 'x1'"):
        base.load(registry.get("medmcqa"), None, tmp_path)


def test_hub_row_mappers():
    """The hub code path's row mappers, fed rows shaped like the upstream hub datasets."""
    from medevals.benchmarks import mcq_sets as m

    it = m.MEDQA.hub.map_row(
        {"question": "Q", "options": {"A": "x", "B": "y"}, "answer_idx": "B", "meta_info": "step1"}, 0, ""
    )
    assert it.target == "B" and it.subset == "step1"
    it = m.MEDMCQA.hub.map_row(
        {"id": "i", "question": "Q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 0}, 0, ""
    )
    assert it.target == "A"
    it = m.MMLU_MED.hub.map_row({"question": "Q", "choices": ["a", "b", "c", "d"], "answer": 3}, 5, "anatomy")
    assert it.target == "D" and it.id == "anatomy-005"
    it = m.PUBMEDQA.hub.map_row(
        {"pubid": 1, "QUESTION": "Q?", "CONTEXTS": ["c1", "c2"], "final_decision": "maybe"}, 0, ""
    )
    assert it.target == "C" and it.context == "c1\nc2"
