"""What real files needed before they loaded from a spec, each pinned by a test that fails without it.

records (a nested list, an object of records), options as {letter, text} objects / keyed "1".."5" /
parallel lists, drop_empty_options, list-indexing field paths, join, answer_format true-false,
duplicate ids naming both lines, objects and lists as option values rejected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medevals.benchmarks import base, registry
from medevals.errors import DataError


def spec(tmp_path: Path, text: str, data: object, name: str = "d.jsonl", indent: int | None = None) -> Path:
    if name.endswith(".jsonl"):
        body = "".join(json.dumps(r) + "\n" for r in data)  # type: ignore[union-attr]
    else:
        body = json.dumps(data, indent=indent)
    (tmp_path / name).write_text(body, encoding="utf-8")
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def items(p: Path) -> list:
    return list(base.load(registry.get(str(p))).items)


Q = {"q": "Which vitamin prevents scurvy?"}


def test_records_reach_a_nested_list_and_errors_name_the_real_line(tmp_path):
    doc = {
        "version": 2,
        "data": {"items": [{**Q, "o": ["C", "D"], "a": "A"}, {**Q, "o": ["C", "D"], "a": "Z"}]},
    }
    p = spec(
        tmp_path,
        "name: n\ndata: d.json\nrecords: data.items\nfields: {question: q, options: o, answer: a}\n",
        doc,
        "d.json",
        indent=2,
    )
    with pytest.raises(DataError) as e:
        items(p)
    # the second record starts on line 15 of the pretty-printed file (not "record 2")
    lines = (tmp_path / "d.json").read_text().splitlines()
    second = [i for i, ln in enumerate(lines, 1) if ln.strip() == "{"][2]  # document, record 1, record 2
    assert f"d.json:{second}: field 'a': answer key 'Z'" in str(e.value)
    doc["data"]["items"][1]["a"] = "B"
    (tmp_path / "d.json").write_text(json.dumps(doc, indent=2))
    got = items(p)
    assert [it.id for it in got] == ["1", "2"] and got[1].target == "B"


def test_records_that_are_an_object_of_objects_give_their_key(tmp_path):
    doc = {"1001": {**Q, "d": "yes"}, "1002": {**Q, "d": "no"}}
    text = "name: n\ndata: d.json\nfields: {id: _key, question: q, answer: d}\nanswer_format: true-false\n"
    p = spec(tmp_path, text, doc, "d.json")
    with pytest.raises(
        DataError, match=r"d.json:1: a .json data file must hold a list of objects .*records: \$"
    ):
        items(p)
    p.write_text(text + "records: $\n")
    assert [(it.id, it.target) for it in items(p)] == [("1001", "A"), ("1002", "B")]
    p.write_text(text + "records: ''\n")
    with pytest.raises(
        DataError, match=r"s.yaml:5: field 'records': String should have at least 1 character"
    ):
        registry.get(str(p))
    p.write_text(text + "records: data\n")
    with pytest.raises(
        DataError, match=r"d.json:1: field 'records': records 'data': the document has no 'data'"
    ):
        items(p)


def test_options_as_letter_text_objects(tmp_path):
    row = {
        **Q,
        "choices": [{"letter": "A", "text": "Vitamin C"}, {"letter": "B", "text": "Vitamin K"}],
        "ans": "A",
    }
    p = spec(
        tmp_path, "name: n\ndata: d.jsonl\nfields: {question: q, options: choices, answer: ans}\n", [row]
    )
    it = items(p)[0]
    assert it.choices == {"A": "Vitamin C", "B": "Vitamin K"} and it.target == "A"
    # ARC-style parallel lists, and {label, text} objects
    row2 = {**Q, "choices": {"label": ["A", "B"], "text": ["x", "y"]}, "ans": "B"}
    row3 = {**Q, "choices": [{"label": "A", "text": "x"}, {"label": "B", "text": "y"}], "ans": "B"}
    p = spec(
        tmp_path,
        "name: n\ndata: d.jsonl\nfields: {question: q, options: choices, answer: ans}\n",
        [row2, row3],
    )
    assert [(it.choices, it.target) for it in items(p)] == [({"A": "x", "B": "y"}, "B")] * 2
    # an object without a letter/text is not an option: one line, not a Python dict shown to the model
    bad = {**Q, "choices": [{"t": "x"}, {"t": "y"}], "ans": "A"}
    p = spec(
        tmp_path, "name: n\ndata: d.jsonl\nfields: {question: q, options: choices, answer: ans}\n", [bad]
    )
    with pytest.raises(
        DataError, match=r"d.jsonl:1: field 'choices.0': expected an option object \{letter, text\}"
    ):
        items(p)


def test_option_values_that_are_objects_or_lists_are_rejected(tmp_path):
    for opts, where in (({"A": {"t": "x"}, "B": "y"}, "options.A"), ({"A": "x", "B": ["y"]}, "options.B")):
        p = spec(
            tmp_path,
            "name: n\ndata: d.jsonl\nfields: {question: q, options: o, answer: a}\n",
            [{**Q, "o": opts, "a": "A"}],
        )
        with pytest.raises(DataError, match=rf"field '{where}': expected text or a number, got (dict|list)"):
            items(p)


def test_options_keyed_1_to_5(tmp_path):
    row = {
        **Q,
        "options": {"2": "Vit D", "1": "Vit C", "3": "Vit K", "4": "Iron", "5": "Zinc"},
        "correct_option": 1,
    }
    p = spec(
        tmp_path,
        "name: n\ndata: d.jsonl\nfields: {question: q, options: options, answer: correct_option}\n",
        [row],
    )
    it = items(p)[0]
    assert it.choices == {"A": "Vit C", "B": "Vit D", "C": "Vit K", "D": "Iron", "E": "Zinc"}
    assert it.target == "A"  # the data's own key "1", not a letter
    row["correct_option"] = "3"
    p = spec(
        tmp_path,
        "name: n\ndata: d.jsonl\nfields: {question: q, options: options, answer: correct_option}\n",
        [row],
    )
    assert items(p)[0].target == "C"
    p.write_text(p.read_text() + "answer_format: index1\n")
    assert items(p)[0].target == "C"


def test_drop_empty_options(tmp_path):
    row = {**Q, "opa": "C", "opb": "D", "opc": "K", "opd": "B12", "ope": "", "ans": "a"}
    text = "name: n\ndata: d.jsonl\nfields: {question: q, options: [opa, opb, opc, opd, ope], answer: ans}\n"
    p = spec(tmp_path, text, [row])
    with pytest.raises(DataError, match=r"field 'options.E': option E is empty"):
        items(p)
    p.write_text(text + "drop_empty_options: true\n")
    it = items(p)[0]
    assert list(it.choices) == ["A", "B", "C", "D"] and it.target == "A"
    # a missing column counts as empty too; the answer may not name an empty option
    del row["ope"]
    row["ans"] = "E"
    spec(tmp_path, text + "drop_empty_options: true\n", [row])
    with pytest.raises(DataError, match=r"field 'ans': the answer names option E, which is empty"):
        items(p)


def test_field_paths_index_lists(tmp_path):
    row = {"question": {"text": "Q?"}, "label": ["B", "A"], "answers": {"choices": [["x", "y"]]}}
    p = spec(
        tmp_path,
        "name: n\ndata: d.jsonl\nfields: {question: question.text, options: answers.choices.0, answer: label.0}\n",
        [row],
    )
    it = items(p)[0]
    assert it.input == "Q?" and it.choices == {"A": "x", "B": "y"} and it.target == "B"
    row["label"] = []
    spec(tmp_path, p.read_text(), [row])
    with pytest.raises(DataError, match=r"d.jsonl:1: field 'label.0': missing"):
        items(p)


def test_join_for_list_valued_context(tmp_path):
    row = {**Q, "ctx": ["First paragraph.", "Second paragraph."], "o": ["C", "D"], "a": "A"}
    text = "name: n\ndata: d.jsonl\nfields: {question: q, options: o, answer: a, context: ctx}\n"
    p = spec(tmp_path, text, [row])
    with pytest.raises(DataError, match=r"field 'ctx': expected text, got list"):
        items(p)
    p.write_text(text + 'join: {context: "\\n\\n"}\n')
    assert items(p)[0].context == "First paragraph.\n\nSecond paragraph."
    p.write_text(text + "join: {contxt: ' '}\n")
    with pytest.raises(
        DataError, match=r"s.yaml:4: field 'join.contxt': 'contxt' is not one of this spec's fields"
    ):
        registry.get(str(p))


def test_answer_format_true_false(tmp_path):
    rows = [{"s": "Scurvy is caused by vitamin C deficiency.", "label": v} for v in (True, "false", "Yes", 0)]
    text = "name: n\ndata: d.jsonl\nfields: {question: s, answer: label}\nanswer_format: true-false\n"
    p = spec(tmp_path, text, rows)
    got = items(p)
    assert got[0].choices == {"A": "True", "B": "False"}
    assert [it.target for it in got] == ["A", "B", "A", "B"]
    spec(tmp_path, text, [{"s": "x", "label": "maybe"}])
    with pytest.raises(DataError, match=r"field 'label': answer 'maybe' is not a valid true-false"):
        items(p)
    p.write_text(text.replace("answer: label}", "answer: label, options: o}"))
    with pytest.raises(
        DataError,
        match=r"s.yaml:3: field 'fields.options': answer_format true-false gives every item its options",
    ):
        registry.get(str(p))


def test_duplicate_id_names_the_file_and_both_lines(tmp_path):
    rows = [{"id": "q1", **Q, "o": ["C", "D"], "a": "A"}, {"id": "q2", **Q, "o": ["C", "D"], "a": "A"}]
    rows.append({**rows[0]})
    p = spec(tmp_path, "name: n\ndata: d.jsonl\nfields: {id: id, question: q, options: o, answer: a}\n", rows)
    with pytest.raises(DataError) as e:
        items(p)
    assert (
        str(e.value)
        == f"{(tmp_path / 'd.jsonl').resolve()}:3: field 'id': duplicate item id 'q1' (first on line 1)"
    )


def test_protocol_specific_keys_are_refused_elsewhere(tmp_path):
    p = spec(
        tmp_path,
        "name: n\ndata: d.jsonl\nprotocol: open-diagnosis\nfields: {case: c, diagnosis: d}\nanswer_format: index1\n",
        [{"c": "case", "d": "dx"}],
    )
    with pytest.raises(
        DataError,
        match=r"s.yaml:5: field 'answer_format': applies to protocol mcq / longdoc only, not open-diagnosis",
    ):
        registry.get(str(p))
