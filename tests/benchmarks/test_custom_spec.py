"""A benchmark from a local JSONL + YAML spec, no Python; spec errors name file, line and field."""

import json

import pytest

from medevals.benchmarks import base, registry
from medevals.errors import DataError


def _write(tmp_path, spec: str, rows: list[dict]):
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    p = tmp_path / "my.yaml"
    p.write_text(spec, encoding="utf-8")
    return p


ROWS = [
    {
        "qid": "q1",
        "q": "Which vitamin deficiency causes scurvy?",
        "opts": ["Vitamin C", "Vitamin D"],
        "ans": 0,
        "topic": "nutrition",
    },
    {
        "qid": "q2",
        "q": "Normal adult resting heart rate?",
        "opts": ["60-100/min", "20-40/min"],
        "ans": 0,
        "topic": "physiology",
    },
]

SPEC = """\
name: my-mcq
data: q.jsonl
fields:
  id: qid
  question: q
  options: opts
  answer: ans
  subset: topic
answer_format: index0
taxonomy: {category: Medical knowledge, subcategory: Local}
license: CC-BY-4.0
"""


def test_custom_spec_loads(tmp_path):
    bench = registry.get(str(_write(tmp_path, SPEC, ROWS)))
    data = base.load(bench)
    assert bench.name == "my-mcq" and bench.taxonomy.subcategory == "Local"
    assert [it.id for it in data.items] == ["q1", "q2"]
    assert data.items[0].choices == {"A": "Vitamin C", "B": "Vitamin D"} and data.items[0].target == "A"


def test_spec_unknown_key_names_line(tmp_path):
    p = _write(tmp_path, SPEC + "colour: blue\n", ROWS)
    with pytest.raises(DataError, match=r"my.yaml:12: field 'colour': Extra inputs"):
        registry.get(str(p))


def test_spec_missing_field(tmp_path):
    p = _write(tmp_path, SPEC.replace("  answer: ans\n", ""), ROWS)
    with pytest.raises(DataError, match=r"my.yaml:3: field 'fields.answer': Field required"):
        registry.get(str(p))


def test_spec_bad_yaml(tmp_path):
    p = _write(tmp_path, "name: [unclosed\n", ROWS)
    with pytest.raises(DataError, match=r"my.yaml:2: invalid YAML"):
        registry.get(str(p))


def test_data_row_errors_name_data_file(tmp_path):
    rows = [*ROWS, {"qid": "q3", "q": "Q", "opts": ["a", "b"], "ans": 7, "topic": "x"}]
    bench = registry.get(str(_write(tmp_path, SPEC, rows)))
    with pytest.raises(DataError, match=r"q.jsonl:3: field 'ans': answer '7' is not a valid index0"):
        base.load(bench)


def test_missing_data_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(SPEC.replace("q.jsonl", "missing.jsonl"), encoding="utf-8")
    with pytest.raises(DataError, match=r"s.yaml:2: field 'data': file .*missing.jsonl' not found"):
        registry.get(str(p))
