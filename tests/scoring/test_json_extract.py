from medevals.scoring.json_extract import extract_json


def test_plain_object():
    assert extract_json('{"a": 1}').value == {"a": 1}


def test_fenced_with_prose_and_think():
    text = '<think>{"draft": true}</think>Sure:\n```json\n{"verdict": "met"}\n```\nDone.'
    assert extract_json(text).value == {"verdict": "met"}


def test_last_object_wins_and_braces_in_strings():
    text = 'First {"x": "a } brace"} then {"x": 2}'
    assert extract_json(text).value == {"x": 2}


def test_array_and_shape_filter():
    assert extract_json('entities: [{"t": "x"}]', want=list).value == [{"t": "x"}]
    r = extract_json("[1, 2]", want=dict)
    assert r.value is None and r.error == "JSON of the wrong shape"


def test_nothing_parseable_is_reported_not_guessed():
    assert extract_json("").error == "empty reply"
    r = extract_json("{verdict: met")
    assert r.value is None and r.error == "no JSON found"


def test_accept_skips_stray_trailing_values():
    text = '[{"text": "x", "type": "Disease"}]\n{"note": "stray"}'
    assert extract_json(text).value == {"note": "stray"}
    got = extract_json(text, accept=lambda v: isinstance(v, list) or "entities" in v)
    assert got.value == [{"text": "x", "type": "Disease"}]
