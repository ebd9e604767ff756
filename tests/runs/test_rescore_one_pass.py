"""rescore in one pass: the file rewritten in unit order with every attempt kept (latest last),
unchanged lines byte for byte, metrics identical to computing them from the file afterwards."""

import json

from clihelp import run_ok
from fake_openai import mcq_by_item_number

from medevals.evaluate import compute_metrics
from medevals.runs.rescore import rescore


def test_rescore_rewrites_in_unit_order_keeps_attempts_and_unchanged_lines(fake_server, tmp_path, capsys):
    folder = run_ok(fake_server(responder=mcq_by_item_number), tmp_path, capsys, "--limit", "8")
    lines = folder.samples_path.read_bytes().splitlines(keepends=True)
    by_uid = {json.loads(x)["unit_id"]: x for x in lines}
    first, second = sorted(by_uid)[:2]
    # an earlier failed attempt of `second` (superseded: its latest line wins), a wrong stored
    # score on `first`, and the file in an order that is not unit order
    failed = json.loads(by_uid[second])
    failed.update(score=None, error="model call failed: 500")
    wrong = json.loads(by_uid[first])
    wrong["score"]["value"] = 1.0 - wrong["score"]["value"]
    shuffled = [json.dumps(failed).encode() + b"\n", *reversed(lines)]
    shuffled[shuffled.index(by_uid[first])] = json.dumps(wrong).encode() + b"\n"
    folder.samples_path.write_bytes(b"".join(shuffled))

    metrics = rescore(folder)
    assert metrics["rescored_changed"] == 1
    out = folder.samples_path.read_bytes().splitlines(keepends=True)
    uids = [json.loads(x)["unit_id"] for x in out]
    assert uids == sorted(uids) and len(out) == 9 and uids.count(second) == 2
    assert json.loads(out[uids.index(second)])["error"] is not None  # the attempt, before its retry
    assert out[uids.index(second) + 1] == by_uid[second]  # unchanged: the same bytes
    assert out[0] == by_uid[first]  # the wrong score is put right: the original line again
    assert sum(1 for _ in folder.iter_samples()) == 8
    again = compute_metrics(folder, folder.read_manifest())
    again["rescored_changed"] = 1
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(metrics, sort_keys=True, default=str)
    # a file already in unit order with one line per unit is read straight through: same result
    clean = b"".join(line for line in out if json.loads(line)["error"] is None)
    folder.samples_path.write_bytes(clean)
    once = rescore(folder)
    assert folder.samples_path.read_bytes() == clean and once["rescored_changed"] == 0
    assert once["benchmarks"] == metrics["benchmarks"]


def test_lines_written_by_another_json_writer_are_still_one_unit_each(fake_server, tmp_path, capsys):
    """'{"unit_id": "x", ...' (a space after the colon: json.dumps, a hand edit) once read as an
    empty unit id, merging every sample into one unit."""
    folder = run_ok(fake_server(responder=mcq_by_item_number), tmp_path, capsys, "--limit", "6")
    lines = folder.samples_path.read_text(encoding="utf-8").splitlines()
    folder.samples_path.write_text("".join(json.dumps(json.loads(x)) + "\n" for x in lines), encoding="utf-8")
    m = compute_metrics(folder, folder.read_manifest())
    (bench,) = m["benchmarks"].values()
    assert bench["n"] == 6
